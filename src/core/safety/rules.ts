// Safety rules: ONE line per alarm the monitor raises, in the order they are evaluated each tick.
// The detectors (./detectors, occlusion.ts, air.ts) turn the sensor snapshot into facts; this
// table is the whole alarm policy. Per rule:
//   cause  raises the alarm (and keeps its cause present);
//   holds  once latched, keeps the cause present while true (so the alarm clears only after the
//          condition itself is removed, delivering or not); `none`: the cause alone;
//   action STOP: delivery stops in this tick (the alarm's stopsDelivery flag in alarmCodes.ts);
//          STOP_BACK_OFF: also reverse the plunger to relieve the line; WARN: annunciate only.
// Every alarm latches until acknowledged AND its cause is gone (alarmManager.ts). DRIVE_FAULT,
// POWER_RESTORED and PUMP_ALARM are raised on the pump itself and mirrored by the monitor.

import { PumpState } from "../pumpStates"
import { AlarmCode } from "./alarmCodes"
import { AirVerdict } from "./air"
import { SyringeLevel } from "./detectors/syringeLevel"
import { OcclusionVerdict } from "./occlusion"

/** What the detectors found this tick. */
export interface SafetyFacts {
    state: PumpState
    delivering: boolean
    /** false: the pressure reading is implausible; rules that need it are skipped this tick. */
    pressureOk: boolean
    occlusion: OcclusionVerdict
    backingOff: boolean
    air: AirVerdict
    airInLine: boolean
    doorOpen: boolean
    plungerEngaged: boolean
    level: SyringeLevel
    pausedLong: boolean
    batteryOk: boolean
    batteryMv: number
    batteryLowMv: number
    batteryDepletedMv: number
    driveMismatch: boolean
    driveErrorUm: number
    overrun: boolean
    watchdog: boolean
}

export type RuleAction = "STOP" | "STOP_BACK_OFF" | "WARN"

export interface SafetyRule {
    code: AlarmCode
    /** Skipped (its cause left as it was) while the pressure reading is implausible. */
    needsPressure: boolean
    cause: (f: SafetyFacts) => boolean
    holds: (f: SafetyFacts) => boolean
    action: RuleAction
    /** Shown with the alarm and logged when it is raised. */
    detail: (f: SafetyFacts) => string
}

function rule(code: AlarmCode, needsPressure: boolean, cause: (f: SafetyFacts) => boolean, holds: (f: SafetyFacts) => boolean, action: RuleAction, detail: (f: SafetyFacts) => string): SafetyRule {
    return { code: code, needsPressure: needsPressure, cause: cause, holds: holds, action: action, detail: detail }
}

const P = true // needs a plausible pressure reading
const _ = false
/** No hold: the cause alone keeps the alarm. */
export const none = (f: SafetyFacts) => false
const noDetail = (f: SafetyFacts) => ""

// prettier-ignore
export const SAFETY_RULES: SafetyRule[] = [
    //   code                  P  cause                                          holds once latched       action           detail
    rule("OCCL_DOWN",          P, f => f.occlusion.alarm,                        f => f.backingOff,       "STOP_BACK_OFF", f => f.occlusion.reason),
    rule("AIR_BUBBLE",         _, f => f.air.single,                             f => f.airInLine,        "STOP",          f => "bubble " + Math.round(f.air.currentUl) + "uL"),
    rule("AIR_CUMULATIVE",     _, f => f.air.cumulative,                         f => f.airInLine,        "STOP",          f => Math.round(f.air.windowTotalUl) + "uL in window"),
    rule("DOOR_OPEN",          _, f => f.doorOpen && f.delivering,               f => f.doorOpen,         "STOP",          noDetail),
    rule("SYRINGE_DISENGAGED", _, f => !f.plungerEngaged && f.delivering,        f => !f.plungerEngaged,  "STOP",          noDetail),
    rule("SYRINGE_EMPTY",      _, f => f.level.empty && f.delivering,            f => f.level.empty,      "STOP",          f => Math.round(f.level.leftUl) + "uL left"),
    rule("NEAR_EMPTY",         _, f => f.level.nearEmpty,                        none,                    "WARN",          f => Math.round(f.level.leftS) + "s left"),
    rule("VTBI_DONE",          _, f => f.state === "KVO" || f.state === "Complete", none,                 "WARN",          noDetail),
    rule("PAUSED_LONG",        _, f => f.pausedLong,                             none,                    "WARN",          noDetail),
    rule("BATTERY_LOW",        _, f => f.batteryOk && f.batteryMv < f.batteryLowMv, none,                 "WARN",          f => f.batteryMv + "mV"),
    rule("BATTERY_DEPLETED",   _, f => f.batteryOk && f.batteryMv < f.batteryDepletedMv, none,            "STOP",          f => f.batteryMv + "mV"),
    rule("SENSOR_FAULT",       _, f => !f.pressureOk || !f.batteryOk,            none,                    "STOP",          f => (!f.pressureOk ? "pressure" : "battery")),
    rule("DRIVE_MISMATCH",     _, f => f.driveMismatch,                          none,                    "STOP",          f => "position error " + Math.round(f.driveErrorUm) + "um"),
    rule("LOOP_OVERRUN",       _, f => f.overrun,                                none,                    "WARN",          noDetail),
    rule("WATCHDOG",           _, f => f.watchdog,                               none,                    "STOP",          noDetail),
]

/** Alarms raised on the pump itself (control loop, restart), not by a rule. */
export const PUMP_RAISED: AlarmCode[] = ["DRIVE_FAULT", "POWER_RESTORED", "PUMP_ALARM", "DOSE_LIMIT"]
