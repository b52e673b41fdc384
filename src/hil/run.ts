// HIL firmware body: the shipping control loop and core, the HIL adapter for sensors, keys and
// the pulse engine, and a status line the rig parses. The program to load is passed in by the
// entry (src/main-hil.ts, or a rig-generated entry that differs only in the program constant).

import * as ds from "@devicescript/core"
import { EventLog } from "../core/eventLog"
import { InfusionProgram } from "../core/program"
import { PumpController } from "../core/pump"
import { createPump, createSafetyState, startControlLoop } from "../control"
import { SAFETY_DEFAULTS, SafetyMonitor } from "../core/safety/monitor"
import { createHilHardware, HIL_PREFIX, HilSignals, KEY_NAMES, allFresh } from "../hal/hil"

/** Status line period: fast enough for the rig to time alarms to ±100 ms. */
export const HIL_STATUS_MS = 100

function onKey(pump: PumpController, key: string) {
    const now = ds.millis()
    console.log(HIL_PREFIX + "t=" + now + " key=" + key)
    if (key === "start") {
        if (pump.state() === "Paused") pump.resume(now)
        else pump.start(now)
    } else if (key === "pause") pump.pause(now)
    else if (key === "stop") pump.stop(now)
    else if (key === "bolus") pump.bolus(now)
    else if (key === "ack") pump.resetAlarm(now)
}

/** Sensors on the bus appear some time after boot; the loop starts once all report, or after
 *  this long anyway (the safety monitor then raises the sensor fault). */
export const SENSOR_WAIT_MS = 15000

export async function runHil(program: InfusionProgram) {
    const log = new EventLog(256)
    log.onRecord = e => console.log("EVENT #" + e.seq + " t=" + e.timeMs + " " + e.kind + " " + e.detail)
    const pump = createPump(log)
    const signals = new HilSignals()
    const hw = createHilHardware(signals)
    // Edge detection on the keypad's pressed-keys reading: a key acts once per press.
    let held: number[] = []
    signals.keypad.reading.subscribe(pressed => {
        const now: number[] = pressed ? pressed : []
        for (let j = 0; j < now.length; j++) {
            const i = now[j]
            if (held.indexOf(i) >= 0) continue
            if (i >= 0 && i < KEY_NAMES.length) onKey(pump, KEY_NAMES[i])
            else console.log(HIL_PREFIX + "t=" + ds.millis() + " unknown-key=" + i)
        }
        held = now
    })
    const t0 = ds.millis()
    while (!allFresh(signals, ds.millis()) && ds.millis() - t0 < SENSOR_WAIT_MS) await ds.sleep(20)
    console.log(HIL_PREFIX + "t=" + ds.millis() + " sensors=" + (allFresh(signals, ds.millis()) ? "ok" : "missing"))
    const loaded = pump.loadProgram(ds.millis(), program)
    console.log(HIL_PREFIX + "t=" + ds.millis() + " program=" + (loaded.ok ? "ok" : "refused") + (loaded.ok ? "" : " reason=" + loaded.reason))
    // Same safety monitor and defaults as the shipping entry (src/main.ts).
    startControlLoop(hw, pump, log, createSafetyState(new SafetyMonitor(pump, log, SAFETY_DEFAULTS)))
    setInterval(async () => {
        const s = pump.status()
        console.log(
            HIL_PREFIX + "t=" + ds.millis() + " state=" + s.state + " alarm=" + (s.alarmCode.length > 0 ? s.alarmCode : "-") +
                " infused=" + s.infusedUl + " bolus=" + s.bolusUl + " fired=" + (await hw.stepper.firedCount())
        )
    }, HIL_STATUS_MS)
}
