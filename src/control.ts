// Timer-based control loop: every tick it reads the clock once, asks the pump core for this
// tick's steps and hands them to the pulse engine. All dosing decisions live in src/core.

import * as ds from "@devicescript/core"
import { EventLog } from "./core/eventLog"
import { PumpController } from "./core/pump"
import { REFERENCE_MECHANICS } from "./core/syringe"
import { formatThousandths } from "./core/units"
import { PumpHardware } from "./hal/types"

export const TICK_MS = 20
/** Reference drive acceleration (µsteps/s²); with 20 ms ticks that is +8 steps per tick. */
export const ACCEL_STEPS_PER_S2 = 20000

export interface ControlLoop {
    pump: PumpController
    log: EventLog
}

export function createPump(log: EventLog): PumpController {
    return new PumpController({ mechanics: REFERENCE_MECHANICS, tickMs: TICK_MS, accelStepsPerS2: ACCEL_STEPS_PER_S2 }, log)
}

export function statusLine(pump: PumpController): string {
    const s = pump.status()
    return (
        "state=" + s.state +
        " rate=" + formatThousandths(s.rateUlPerH) + "mL/h" +
        " infused=" + formatThousandths(s.infusedUl) + "mL" +
        " vtbi=" + formatThousandths(s.vtbiUl) + "mL" +
        (s.alarmCode.length > 0 ? " alarm=" + s.alarmCode : "")
    )
}

/** An exception as "Name: message" (string concatenation of an Error prints its internals). */
export function errorText(e: any): string {
    return e instanceof Error ? e.name + ": " + e.message : "" + e
}

/** Motor enable state the loop last sent to the drive. */
export interface DriveState {
    motorOn: boolean
}

/** One control tick: plan steps for `nowMs` and hand them to the pulse engine. A drive error
 *  raises DRIVE_FAULT at once: the pump stops and the record says why. */
export async function controlTick(hw: PumpHardware, pump: PumpController, drive: DriveState, nowMs: number) {
    try {
        const out = pump.update(nowMs)
        if (out.motorEnabled !== drive.motorOn) {
            drive.motorOn = out.motorEnabled
            await hw.stepper.enable(drive.motorOn)
            await hw.indicators.setRunLed(drive.motorOn)
        }
        if (out.steps > 0) await hw.stepper.queue(out.steps, out.forward, TICK_MS)
    } catch (e) {
        pump.raiseAlarm(nowMs, "DRIVE_FAULT", "step engine error: " + errorText(e))
        try {
            await hw.stepper.enable(false)
            drive.motorOn = false
        } catch (e2) {
            // The engine is unreachable; its own watchdog stops pulsing when commands stop.
        }
    }
}

/** Starts the control tick and a once-a-second status print. */
export function startControlLoop(hw: PumpHardware, pump: PumpController, log: EventLog) {
    const drive: DriveState = { motorOn: false }
    let busy = false
    setInterval(async () => {
        // A tick still running when the next is due is skipped; the planner sees the late tick.
        if (busy) return
        busy = true
        await controlTick(hw, pump, drive, ds.millis())
        busy = false
    }, TICK_MS)
    setInterval(async () => {
        console.log(statusLine(pump) + " fired=" + (await hw.stepper.firedCount()))
    }, 1000)
}
