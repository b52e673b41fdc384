// The control tick, written once. The firmware (src/firmware/control.ts), the host closed loop
// (hil-tests/host/closedLoop.ts) and the test rigs all call runControlTick and only do their own
// I/O around it: read the sensors before, fire the steps and drive buzzer/LED after.
//
// Order, and why:
//   1. safety check on this tick's snapshot (null = failed read -> SENSOR_FAULT): a stopping
//      condition puts the pump in Alarm BEFORE it plans, so the motor stops in the same tick;
//   2. the pump plans this tick's forward steps (none unless it is delivering);
//   3. the occlusion back-off's reverse steps come from step 1;
//   4. the annunciation for this tick (tone, LEDs) is read from the alarm manager.
//
// Forward and reverse in one tick (invariant, tested in test/core/tick.test.ts): at most one of
// them is non-zero. Back-off steps exist only while a back-off is active; a back-off starts when
// OCCL_DOWN latches and holds the OCCL_DOWN cause true until it ends, so OCCL_DOWN (which stops
// delivery) stays latched, the check in step 1 has put the pump in Alarm, and the pump plans no
// forward steps. Nothing is netted: forward steps are already counted as infused by the pump,
// back-off steps are counted by the monitor, and each goes to the drive as its own command.
//
// Pure: no clock read (the caller passes nowMs), no device I/O, DeviceScript subset.

import { PumpController } from "./pump"
import { Annunciation } from "./safety/alarmManager"
import { SafetyMonitor } from "./safety/monitor"
import { SensorSnapshot } from "./sensors"

/** What the device must do this tick. */
export interface TickActions {
    /** Microsteps to fire forward (toward the patient); 0 when not delivering. */
    forwardSteps: number
    /** Occlusion back-off microsteps to fire in reverse; 0 unless a back-off is running. */
    reverseSteps: number
    /** Motor driver enabled: delivering, or backing off. */
    motorOn: boolean
    /** Buzzer tone and alarm LEDs for this tick. */
    annunciation: Annunciation
}

/** One control tick at `nowMs` with the snapshot read for it (null when the read failed). */
export function runControlTick(nowMs: number, snap: SensorSnapshot, monitor: SafetyMonitor, pump: PumpController): TickActions {
    const reverseSteps = monitor.check(nowMs, snap).reverseSteps
    const out = pump.update(nowMs)
    // The pump only ever plans forward steps (TickOutput.forward is always true).
    const forwardSteps = out.motorEnabled && out.forward ? out.steps : 0
    return {
        forwardSteps: forwardSteps,
        reverseSteps: reverseSteps,
        motorOn: out.motorEnabled || reverseSteps > 0,
        annunciation: monitor.alarms.annunciation(nowMs),
    }
}
