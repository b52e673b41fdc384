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

function rule(code: AlarmCode, needsPressure: boolean, cause: number, hold: number, action: RuleAction, detail: number): SafetyRule {
    return { code: code, needsPressure: needsPressure, cause: cause, hold: hold, action: action, detail: detail }
}

const P = true // needs a plausible pressure reading
const _ = false

// prettier-ignore
export const SAFETY_RULES: SafetyRule[] = [
    //   code                  P  cause (all bits)                 hold once latched   action           detail (ruleDetail)
    rule("OCCL_DOWN",          P, F_OCCLUSION,                     F_BACKING_OFF,      "STOP_BACK_OFF", 1),
    rule("AIR_BUBBLE",         _, F_AIR_SINGLE,                    F_AIR_IN_LINE,      "STOP",          2),
    rule("AIR_CUMULATIVE",     _, F_AIR_CUMULATIVE,                F_AIR_IN_LINE,      "STOP",          3),
    rule("DOOR_OPEN",          _, F_DOOR_OPEN | F_DELIVERING,      F_DOOR_OPEN,        "STOP",          0),
    rule("SYRINGE_DISENGAGED", _, F_DISENGAGED | F_DELIVERING,     F_DISENGAGED,       "STOP",          0),
    rule("SYRINGE_EMPTY",      _, F_EMPTY | F_DELIVERING,          F_EMPTY,            "STOP",          4),
    rule("NEAR_EMPTY",         _, F_NEAR_EMPTY,                    0,                  "WARN",          5),
    rule("VTBI_DONE",          _, F_VTBI_DONE,                     0,                  "WARN",          0),
    rule("PAUSED_LONG",        _, F_PAUSED_LONG,                   0,                  "WARN",          0),
    rule("BATTERY_LOW",        _, F_BATTERY_LOW,                   0,                  "WARN",          6),
    rule("BATTERY_DEPLETED",   _, F_BATTERY_DEPLETED,              0,                  "STOP",          6),
    rule("SENSOR_FAULT",       _, F_SENSOR_BAD,                    0,                  "STOP",          7),
    rule("DRIVE_MISMATCH",     _, F_DRIVE_MISMATCH,                0,                  "STOP",          8),
    rule("LOOP_OVERRUN",       _, F_OVERRUN,                       0,                  "WARN",          0),
    rule("WATCHDOG",           _, F_WATCHDOG,                      0,                  "STOP",          0),
]

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
