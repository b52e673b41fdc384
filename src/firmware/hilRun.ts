// HIL firmware body: the shipping control loop and core, the HIL adapter for sensors, keys and
// the pulse engine, and a status line the rig parses. The program to load is passed in by the
// entry (src/entries/hil.ts, or a rig-generated entry that differs only in the program constant),
// together with the rig adapter and the device services.

import { InfusionProgram } from "../core/program"
import { CommandResult, PumpController } from "../core/pump"
import { bootFirmware, PumpFirmware, runFirmware } from "./app"
import { HIL_PREFIX, HilRig, HilTmcFault, KEY_NAMES } from "../hal/hilTypes"
import { DeviceServices, PanelKeySource } from "../hal/types"
import { Clock } from "../core/clock"
import { initDrive } from "./drive"
import { hilLibrarySource, LibrarySource } from "./librarySource"
import { startStatusLines } from "./hilStatus"

function onKey(fw: PumpFirmware, rig: HilRig, key: string) {
    const pump = fw.pump
    const now = fw.dev.clock.nowMs()
    rig.reportMotion()
    let r: CommandResult = null
    if (key === "start") r = pump.state() === "Paused" ? pump.resume(now) : pump.start(now)
    else if (key === "pause") r = pump.pause(now)
    else if (key === "stop") r = pump.stop(now)
    else if (key === "bolus") r = pump.bolus(now)
    // Acknowledge goes through the alarm manager: it clears only alarms whose cause is gone.
    else if (key === "ack") fw.safety.monitor.acknowledge(now)
    else r = { ok: false, reason: "key " + key + " acts only on the front panel" }
    // The pump's answer, for the rig's key check (reason last: the rig reads it to the line end).
    console.log(HIL_PREFIX + "t=" + now + " key=" + key + (r && !r.ok ? " ok=0 reason=" + r.reason : " ok=1"))
}

/** The rig's keypad as key edges: edge detection on its pressed-keys reading, a press and a
 *  release per key (the panel's held keys repeat); an index outside the layout is logged. */
export function keypadKeys(rig: HilRig, clock: Clock): PanelKeySource {
    return {
        onKey: (handler: (key: string, down: boolean) => void) => {
            let held: number[] = []
            // One edge of key index i; an index outside the layout is logged at its press.
            const edge = (i: number, down: boolean) => {
                if (i >= 0 && i < KEY_NAMES.length) handler(KEY_NAMES[i], down)
                else if (down) console.log(HIL_PREFIX + "t=" + clock.nowMs() + " unknown-key=" + i)
            }
            rig.onKeypad(pressed => {
                const now: number[] = pressed ? pressed : []
                for (let j = 0; j < now.length; j++) if (held.indexOf(now[j]) < 0) edge(now[j], true)
                for (let j = 0; j < held.length; j++) if (now.indexOf(held[j]) < 0) edge(held[j], false)
                held = now
            })
        },
    }
}

/** Sensors on the bus appear some time after boot; the loop starts once all report, or after
 *  this long anyway (the safety monitor then raises the sensor fault). */
export const SENSOR_WAIT_MS = 15000

/** Waits for the rig's sensors (at most SENSOR_WAIT_MS), then boots the shipping start-up:
 *  persistence and power-loss restore, self-test and safety monitor (src/firmware/app.ts), and
 *  the drive. Shared by the HIL image with the direct keypad and the one with the front panel. */
export async function bootHil(rig: HilRig, dev: DeviceServices, library: LibrarySource): Promise<PumpFirmware> {
    const clock = dev.clock
    const t0 = clock.nowMs()
    while (!rig.allSignalsFresh(clock.nowMs()) && clock.nowMs() - t0 < SENSOR_WAIT_MS) await clock.sleep(20)
    console.log(HIL_PREFIX + "t=" + clock.nowMs() + " sensors=" + (rig.allSignalsFresh(clock.nowMs()) ? "ok" : "missing"))
    const fw = await bootFirmware(rig.hw, dev, "hil-", library)
    await initDrive(fw)
    return fw
}

/** `setup`: calls after the program load (a rig scenario's drug-library result: loading dose,
 *  concentration, dose window, lockout, standby); its refusal is reported as the program's. */
export async function runHil(program: InfusionProgram, rig: HilRig, dev: DeviceServices, tmcFault?: HilTmcFault, setup?: (p: PumpController, nowMs: number) => CommandResult) {
    const clock = dev.clock
    const fw = await bootHil(rig, dev, hilLibrarySource)
    const pump = fw.pump
    // A key acts once per press.
    keypadKeys(rig, clock).onKey((key: string, down: boolean) => {
        if (down) onKey(fw, rig, key)
    })
    // A pump restored after power loss keeps its own program (Paused behind POWER_RESTORED).
    let loaded = runFirmware(fw, program, false)
    if (setup && loaded && loaded.ok) loaded = setup(pump, clock.nowMs())
    const programText = loaded === null ? "restored" : loaded.ok ? "ok" : "refused reason=" + loaded.reason
    console.log(HIL_PREFIX + "t=" + clock.nowMs() + " program=" + programText)
    startStatusLines(fw, rig, tmcFault)
}
