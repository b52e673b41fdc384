// Alarm catalogue: one definition per code with its priority, whether it stops delivery, its text
// and its clearing rule, as data. docs/alarm-codes.csv is generated from this table plus the prose
// in alarmDocs.ts (tools/genAlarmCodes.ts); test/safety/alarmCodes.test.ts fails when they differ.

import { unpack } from "../units"

export type AlarmPriority = "high" | "medium" | "low"

/** Every alarm code the firmware can raise: a closed set, so a misspelt code does not compile. */
export type AlarmCode =
    | "OCCL_DOWN"
    | "SYRINGE_DISENGAGED"
    | "AIR_BUBBLE"
    | "AIR_CUMULATIVE"
    | "DOOR_OPEN"
    | "SYRINGE_EMPTY"
    | "BATTERY_DEPLETED"
    | "SENSOR_FAULT"
    | "DRIVE_MISMATCH"
    | "WATCHDOG"
    | "DRIVE_FAULT"
    | "POWER_RESTORED"
    | "PUMP_ALARM"
    | "DOSE_LIMIT"
    | "NEAR_EMPTY"
    | "VTBI_DONE"
    | "PAUSED_LONG"
    | "BATTERY_LOW"
    | "LOOP_OVERRUN"

/** How a latched alarm clears (every alarm latches; IEC 60601-1-8 latching alarm signals):
 *  - "ack-and-cause-gone": after the operator acknowledges AND the detector's cause is gone;
 *  - "ack-and-hold-gone": the cause is raised only while delivering, but once latched it holds
 *    while the condition itself remains (door still open, air still in the detector, occlusion
 *    back-off still running...), so it clears after acknowledge AND the condition is removed,
 *    delivering or not;
 *  - "ack": the cause is an event (raised on the pump, or not observable while stopped), so the
 *    acknowledge alone clears it; a restart re-checks. */
export type ClearRule = "ack-and-cause-gone" | "ack-and-hold-gone" | "ack"

export interface AlarmDef {
    code: AlarmCode
    priority: AlarmPriority
    /** true: delivery must stop (the pump goes to Alarm within the same control tick). */
    stopsDelivery: boolean
    clear: ClearRule
    text: string
}

// The catalogue as one packed string, "code|priority|stops (1 or empty)|clear|text;..." in catalogue
// order, decoded once at start-up: a string literal is image data, while 19 object literals were
// bytecode in `main` (the image's function-code budget, HELPERS.md).
export const ALARM_DEFS: AlarmDef[] = unpack(
    "OCCL_DOWN|high|1|ack-and-hold-gone|Downstream occlusion: check clamps, line and cannula;SYRINGE_DISENGAGED|high|1|ack-and-hold-gone|Syringe plunger not held / upstream: re-seat the syringe;AIR_BUBBLE|high|1|ack-and-hold-gone|Air in line: bubble above the set size;AIR_CUMULATIVE|high|1|ack-and-hold-gone|Air in line: more than 1 mL of air in 15 min;DOOR_OPEN|high|1|ack-and-hold-gone|Syringe door open during infusion;SYRINGE_EMPTY|high|1|ack-and-hold-gone|Syringe empty;BATTERY_DEPLETED|high|1|ack-and-cause-gone|Battery depleted: connect mains now;SENSOR_FAULT|high|1|ack-and-cause-gone|Sensor fault: pressure or battery reading invalid;DRIVE_MISMATCH|high|1|ack|Motor stall or plunger position does not match steps;WATCHDOG|high|1|ack-and-cause-gone|Control loop stopped responding;DRIVE_FAULT|high|1|ack|Step engine error;POWER_RESTORED|high|1|ack|Power was lost during an infusion: check patient and volume, then resume;PUMP_ALARM|high|1|ack|Pump stopped by an alarm (see event log);DOSE_LIMIT|high|1|ack|Maximum dose for the time window reached: delivery stopped;NEAR_EMPTY|medium||ack-and-cause-gone|Syringe near empty;VTBI_DONE|medium||ack-and-cause-gone|Volume to be infused complete (KVO running or stopped);PAUSED_LONG|medium||ack-and-cause-gone|Pump paused too long;BATTERY_LOW|medium||ack-and-cause-gone|Battery low: connect mains;LOOP_OVERRUN|low||ack-and-cause-gone|Control loop ran late",
    "code|priority|?stopsDelivery|clear|text"
)

/** The definition of `code`, or null for a string that is not a known code (e.g. read back
 *  from storage written by another firmware version). */
export function findAlarm(code: string): AlarmDef {
    for (let i = 0; i < ALARM_DEFS.length; i++) if (ALARM_DEFS[i].code === code) return ALARM_DEFS[i]
    return null
}

export function priorityRank(p: AlarmPriority): number {
    if (p === "high") return 3
    if (p === "medium") return 2
    return 1
}
