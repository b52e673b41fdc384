// Alarm catalogue: code, priority and text. docs/alarm-codes.csv is the same table for people;
// test/safety/alarmCodes.test.ts checks they agree.

export type AlarmPriority = "high" | "medium" | "low"

export interface AlarmDef {
    code: string
    priority: AlarmPriority
    /** true: delivery must stop (the pump goes to Alarm within the same control tick). */
    stopsDelivery: boolean
    text: string
}

function d(code: string, priority: AlarmPriority, stops: boolean, text: string): AlarmDef {
    return { code: code, priority: priority, stopsDelivery: stops, text: text }
}

export const ALARM_DEFS: AlarmDef[] = [
    d("OCCL_DOWN", "high", true, "Downstream occlusion: check clamps, line and cannula"),
    d("SYRINGE_DISENGAGED", "high", true, "Syringe plunger not held / upstream: re-seat the syringe"),
    d("AIR_BUBBLE", "high", true, "Air in line: bubble above the set size"),
    d("AIR_CUMULATIVE", "high", true, "Air in line: more than 1 mL of air in 15 min"),
    d("DOOR_OPEN", "high", true, "Syringe door open during infusion"),
    d("SYRINGE_EMPTY", "high", true, "Syringe empty"),
    d("BATTERY_DEPLETED", "high", true, "Battery depleted: connect mains now"),
    d("SENSOR_FAULT", "high", true, "Sensor fault: pressure or battery reading invalid"),
    d("DRIVE_MISMATCH", "high", true, "Motor stall or plunger position does not match steps"),
    d("WATCHDOG", "high", true, "Control loop stopped responding"),
    d("DRIVE_FAULT", "high", true, "Step engine error"),
    d("POWER_RESTORED", "high", true, "Power was lost during an infusion: check patient and volume, then resume"),
    d("PUMP_ALARM", "high", true, "Pump stopped by an alarm (see event log)"),
    d("NEAR_EMPTY", "medium", false, "Syringe near empty"),
    d("VTBI_DONE", "medium", false, "Volume to be infused complete (KVO running or stopped)"),
    d("PAUSED_LONG", "medium", false, "Pump paused too long"),
    d("BATTERY_LOW", "medium", false, "Battery low: connect mains"),
    d("LOOP_OVERRUN", "low", false, "Control loop ran late"),
]

export function findAlarm(code: string): AlarmDef {
    for (let i = 0; i < ALARM_DEFS.length; i++) if (ALARM_DEFS[i].code === code) return ALARM_DEFS[i]
    return null
}

export function priorityRank(p: AlarmPriority): number {
    if (p === "high") return 3
    if (p === "medium") return 2
    return 1
}
