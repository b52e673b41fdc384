// Alarm catalogue: one definition per code with its priority, whether it stops delivery, its text
// and its clearing rule, as data. docs/alarm-codes.csv is generated from this table plus the prose
// in alarmDocs.ts (tools/genAlarmCodes.ts); test/safety/alarmCodes.test.ts fails when they differ.

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

function d(code: AlarmCode, priority: AlarmPriority, stops: boolean, clear: ClearRule, text: string): AlarmDef {
    return { code: code, priority: priority, stopsDelivery: stops, clear: clear, text: text }
}

export const ALARM_DEFS: AlarmDef[] = [
    d("OCCL_DOWN", "high", true, "ack-and-hold-gone", "Downstream occlusion: check clamps, line and cannula"),
    d("SYRINGE_DISENGAGED", "high", true, "ack-and-hold-gone", "Syringe plunger not held / upstream: re-seat the syringe"),
    d("AIR_BUBBLE", "high", true, "ack-and-hold-gone", "Air in line: bubble above the set size"),
    d("AIR_CUMULATIVE", "high", true, "ack-and-hold-gone", "Air in line: more than 1 mL of air in 15 min"),
    d("DOOR_OPEN", "high", true, "ack-and-hold-gone", "Syringe door open during infusion"),
    d("SYRINGE_EMPTY", "high", true, "ack-and-hold-gone", "Syringe empty"),
    d("BATTERY_DEPLETED", "high", true, "ack-and-cause-gone", "Battery depleted: connect mains now"),
    d("SENSOR_FAULT", "high", true, "ack-and-cause-gone", "Sensor fault: pressure or battery reading invalid"),
    d("DRIVE_MISMATCH", "high", true, "ack", "Motor stall or plunger position does not match steps"),
    d("WATCHDOG", "high", true, "ack-and-cause-gone", "Control loop stopped responding"),
    d("DRIVE_FAULT", "high", true, "ack", "Step engine error"),
    d("POWER_RESTORED", "high", true, "ack", "Power was lost during an infusion: check patient and volume, then resume"),
    d("PUMP_ALARM", "high", true, "ack", "Pump stopped by an alarm (see event log)"),
    d("DOSE_LIMIT", "high", true, "ack", "Maximum dose for the time window reached: delivery stopped"),
    d("NEAR_EMPTY", "medium", false, "ack-and-cause-gone", "Syringe near empty"),
    d("VTBI_DONE", "medium", false, "ack-and-cause-gone", "Volume to be infused complete (KVO running or stopped)"),
    d("PAUSED_LONG", "medium", false, "ack-and-cause-gone", "Pump paused too long"),
    d("BATTERY_LOW", "medium", false, "ack-and-cause-gone", "Battery low: connect mains"),
    d("LOOP_OVERRUN", "low", false, "ack-and-cause-gone", "Control loop ran late"),
]

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
