// Safety rules: ONE line per alarm the monitor raises, in the order they are evaluated.
// The detectors (./detectors, occlusion.ts, air.ts) turn the sensor snapshot into facts, one bit
// each (F_* below, set by the monitor); this table is the whole alarm policy. Per rule:
//   cause  fact bits that must ALL be set to raise the alarm (and keep its cause present);
//   hold   once latched, keeps the cause present while all these bits are set (so the alarm
//          clears only after the condition itself is removed, delivering or not); 0: the cause alone;
//   action STOP: delivery stops in this tick (the alarm's stopsDelivery flag in alarmCodes.ts);
//          STOP_BACK_OFF: also reverse the plunger to relieve the line; WARN: annunciate only;
//   detail text shown with the alarm and logged, built only on the tick the alarm latches.
// Every alarm latches until acknowledged AND its cause is gone (alarmManager.ts). DRIVE_FAULT,
// POWER_RESTORED and PUMP_ALARM are raised on the pump itself and mirrored by the monitor.
// The rules read nothing but the bits and the latched set, so the monitor runs the table only on
// a tick where either changed (issue 16: a quiet tick evaluates no rule and compares no string).

import { unpack } from "../units"
import { AlarmCode } from "./alarmCodes"
import { AirVerdict } from "./air"
import { SyringeLevel } from "./detectors/syringeLevel"
import { OcclusionVerdict } from "./occlusion"

// Fact bits (SafetyFacts.bits).
export const F_OCCLUSION = 1 // the occlusion detector's verdict is an alarm
export const F_BACKING_OFF = 2 // the occlusion back-off is running
export const F_AIR_SINGLE = 4 // one bubble over the set size
export const F_AIR_CUMULATIVE = 8 // air in the rolling window over the limit
export const F_AIR_IN_LINE = 16 // the air sensor sees air now
export const F_DOOR_OPEN = 32
export const F_DELIVERING = 64 // the pump state is a delivering one
export const F_DISENGAGED = 128 // the plunger is not engaged
export const F_EMPTY = 256 // remaining travel at or under the empty margin
export const F_NEAR_EMPTY = 512 // delivering, and the syringe lasts nearEmptyMs or less
export const F_VTBI_DONE = 1024 // state KVO or Complete
export const F_PAUSED_LONG = 2048 // paused 2 min, or a standby overdue (REQ-DOSE-010)
export const F_BATTERY_LOW = 4096 // valid battery reading under batteryLowMv
export const F_BATTERY_DEPLETED = 8192 // valid battery reading under batteryDepletedMv
export const F_SENSOR_BAD = 16384 // the pressure or the battery reading is implausible
export const F_PRESSURE_BAD = 32768 // the pressure reading is implausible (pressure rules skipped)
export const F_DRIVE_MISMATCH = 65536 // plunger position does not follow the fired steps
export const F_OVERRUN = 131072 // a late tick within the last 10 s
export const F_WATCHDOG = 262144 // a tick gap reached the watchdog limit

/** The figures the detail texts quote (the facts themselves are the bits). */
export interface SafetyFacts {
    pressureOk: boolean
    occlusion: OcclusionVerdict
    air: AirVerdict
    level: SyringeLevel
    batteryMv: number
    driveErrorUm: number
}

export type RuleAction = "STOP" | "STOP_BACK_OFF" | "WARN"

export interface SafetyRule {
    code: AlarmCode
    /** Skipped (its cause left as it was) while the pressure reading is implausible. */
    needsPressure: boolean
    /** All of these fact bits raise the alarm. */
    cause: number
    /** Once latched, all of these bits keep the cause present; 0: the cause alone. */
    hold: number
    action: RuleAction
    /** Which text ruleDetail shows with the alarm and logs when it is raised (0: none). */
    detail: number
}

// The table as one packed string (image data; 15 object literals and 9 detail closures were
// bytecode), decoded once at start-up. One rule per ";": code|P (needs a plausible pressure
// reading) or empty|cause bits|hold bits|action|detail (ruleDetail). The same table with the F_*
// names, which test/safety/rules.test.ts checks this string against:
//   code                  P  cause (all bits)                 hold once latched   action           detail
//   OCCL_DOWN             P  F_OCCLUSION                      F_BACKING_OFF       STOP_BACK_OFF    1 occlusion reason
//   AIR_BUBBLE               F_AIR_SINGLE                     F_AIR_IN_LINE       STOP             2 bubble size
//   AIR_CUMULATIVE           F_AIR_CUMULATIVE                 F_AIR_IN_LINE       STOP             3 air in window
//   DOOR_OPEN                F_DOOR_OPEN | F_DELIVERING       F_DOOR_OPEN         STOP             0
//   SYRINGE_DISENGAGED       F_DISENGAGED | F_DELIVERING      F_DISENGAGED        STOP             0
//   SYRINGE_EMPTY            F_EMPTY | F_DELIVERING           F_EMPTY             STOP             4 µL left
//   NEAR_EMPTY               F_NEAR_EMPTY                     0                   WARN             5 s left
//   VTBI_DONE                F_VTBI_DONE                      0                   WARN             0
//   PAUSED_LONG              F_PAUSED_LONG                    0                   WARN             0
//   BATTERY_LOW              F_BATTERY_LOW                    0                   WARN             6 battery mV
//   BATTERY_DEPLETED         F_BATTERY_DEPLETED               0                   STOP             6 battery mV
//   SENSOR_FAULT             F_SENSOR_BAD                     0                   STOP             7 which sensor
//   DRIVE_MISMATCH           F_DRIVE_MISMATCH                 0                   STOP             8 position error
//   LOOP_OVERRUN             F_OVERRUN                        0                   WARN             0
//   WATCHDOG                 F_WATCHDOG                       0                   STOP             0
export const SAFETY_RULES: SafetyRule[] = unpack(
    "OCCL_DOWN|P|1|2|STOP_BACK_OFF|1;AIR_BUBBLE||4|16|STOP|2;AIR_CUMULATIVE||8|16|STOP|3;DOOR_OPEN||96|32|STOP|0;SYRINGE_DISENGAGED||192|128|STOP|0;SYRINGE_EMPTY||320|256|STOP|4;NEAR_EMPTY||512|0|WARN|5;VTBI_DONE||1024|0|WARN|0;PAUSED_LONG||2048|0|WARN|0;BATTERY_LOW||4096|0|WARN|6;BATTERY_DEPLETED||8192|0|STOP|6;SENSOR_FAULT||16384|0|STOP|7;DRIVE_MISMATCH||65536|0|STOP|8;LOOP_OVERRUN||131072|0|WARN|0;WATCHDOG||262144|0|STOP|0",
    "code|?needsPressure|#cause|#hold|action|#detail"
)

/** The text shown with rule `r`'s alarm and logged, built only on the tick the alarm latches. */
export function ruleDetail(r: SafetyRule, f: SafetyFacts): string {
    const k = r.detail
    if (k === 1) return f.occlusion.reason
    if (k === 2) return "bubble " + Math.round(f.air.currentUl) + "uL"
    if (k === 3) return Math.round(f.air.windowTotalUl) + "uL in window"
    if (k === 4) return Math.round(f.level.leftUl) + "uL left"
    if (k === 5) return Math.round(f.level.leftS) + "s left"
    if (k === 6) return f.batteryMv + "mV"
    if (k === 7) return !f.pressureOk ? "pressure" : "battery"
    if (k === 8) return "position error " + Math.round(f.driveErrorUm) + "um"
    return ""
}

/** Alarms raised on the pump itself (control loop, restart), not by a rule. */
export const PUMP_RAISED: AlarmCode[] = ["DRIVE_FAULT", "POWER_RESTORED", "PUMP_ALARM", "DOSE_LIMIT"]
