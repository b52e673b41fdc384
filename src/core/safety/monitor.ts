// Safety monitor: runs FIRST in every control tick. The detectors turn the sensor snapshot into
// facts, the rule table (rules.ts) turns the facts into alarm causes, and a stopping alarm is
// raised on the pump before the pump plans this tick's steps, so the motor never takes another
// step after a high-priority condition is seen. Every cause is re-evaluated every tick from the
// sensors (nothing is a one-shot flag), so a restart against an uncleared cause re-alarms.

import { EventSink } from "../eventLog"
import { PumpController } from "../pump"
import { InfusionProgram } from "../program"
import { SensorSnapshot } from "../sensors"
import { isDelivering, PumpState } from "../pumpStates"
import { findSyringe, microstepsPerMm, picolitresPerMicrostep, SyringeSpec } from "../syringe"
import { AIR_DEFAULTS, AirConfig, AirDetector, validateAirConfig } from "./air"
import { AlarmCode } from "./alarmCodes"
import { AlarmManager, Annunciation } from "./alarmManager"
import { OcclusionBackoff } from "./detectors/backoff"
import { countsToMmHg, PressureCalibration } from "./detectors/pressureSensor"
import { levelCheckFromUm, syringeLevel, SyringeLevel } from "./detectors/syringeLevel"
import { LoopTiming } from "./detectors/timing"
import { OCCLUSION_DEFAULTS, OcclusionConfig, OcclusionDetector, OcclusionVerdict, withSyringeCompliance } from "./occlusion"
import { F_AIR_CUMULATIVE, F_AIR_IN_LINE, F_AIR_SINGLE, F_BACKING_OFF, F_BATTERY_DEPLETED, F_BATTERY_LOW, F_DELIVERING, F_DISENGAGED, F_DOOR_OPEN, F_DRIVE_MISMATCH, F_EMPTY, F_NEAR_EMPTY, F_OCCLUSION, F_OVERRUN, F_PAUSED_LONG, F_PRESSURE_BAD, F_SENSOR_BAD, F_VTBI_DONE, F_WATCHDOG, ruleDetail, SAFETY_RULES, SafetyFacts } from "./rules"

/** How long a reading below `implausibleLowMmHg` must last to count as a fault. */
const IMPLAUSIBLE_LOW_FOR_MS = 1000

/** Nominal transfer of the reference transducer (0.5-4.5 V for 0-30 psi into 12 bits). */
export const NOMINAL_PRESSURE_CAL: PressureCalibration = { offsetCounts: 410, countsPerMmHg: 2.112 }

export interface SafetyConfig {
    occlusion: OcclusionConfig
    /** Use the compliance estimate for the loaded syringe instead of occlusion.compliance. */
    autoCompliance: boolean
    air: AirConfig
    pressureCal: PressureCalibration
    /** Raw pressure counts outside this range mean an open or shorted sensor. */
    adcMinCounts: number
    adcMaxCounts: number
    /** A reading that does not change at all for this long is stuck (the front end has >= 1
     *  LSB of noise by design, so a live sensor always dithers). */
    stuckMs: number
    /** Gauge pressure below this (mmHg, 1 s mean) cannot occur in a pumped line. */
    implausibleLowMmHg: number
    /** NEAR_EMPTY when the syringe lasts this long or less at the current rate. */
    nearEmptyMs: number
    /** Remaining plunger travel (µm) at which the syringe counts as empty. */
    emptyTravelUm: number
    pausedMaxMs: number
    batteryLowMv: number
    batteryDepletedMv: number
    batteryMinMv: number
    batteryMaxMv: number
    positionMismatchUm: number
    overrunMs: number
    watchdogMs: number
    /** Occlusion back-off reverse speed (µsteps/s). */
    backoffStepsPerS: number
    backoffMarginMmHg: number
    backoffMaxMs: number
}

export const SAFETY_DEFAULTS: SafetyConfig = {
    occlusion: OCCLUSION_DEFAULTS,
    autoCompliance: true,
    air: AIR_DEFAULTS,
    pressureCal: NOMINAL_PRESSURE_CAL,
    adcMinCounts: 100,
    adcMaxCounts: 4000,
    stuckMs: 10000,
    implausibleLowMmHg: -60,
    nearEmptyMs: 300000,
    emptyTravelUm: 500,
    pausedMaxMs: 120000,
    batteryLowMv: 3550,
    batteryDepletedMv: 3350,
    batteryMinMv: 2500,
    batteryMaxMv: 4500,
    positionMismatchUm: 200,
    overrunMs: 200,
    watchdogMs: 1000,
    // 2,000 µsteps/s (the former 40 per 20 ms tick; 200 per 100 ms tick).
    backoffStepsPerS: 2000,
    backoffMarginMmHg: 3,
    backoffMaxMs: 15000,
}

export interface SafetyTick {
    /** Reverse microsteps to fire this tick (occlusion pressure relief), 0 otherwise. */
    reverseSteps: number
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class SafetyMonitor {
    readonly cfg: SafetyConfig
    readonly alarms: AlarmManager
    readonly occlusion: OcclusionDetector
    readonly air: AirDetector
    private readonly pump: PumpController
    private readonly log: EventSink
    /** Pressure plausibility (detect): the last counts and since when they have not changed
     *  (lastCounts starts unset: the first reading differs), and since when the pressure has
     *  been implausibly low (-1: not low). */
    private lastCounts: number
    private sameSinceMs: number
    private lowSinceMs = -1
    private readonly timing = new LoopTiming()
    /** Drive check reference (detect): fired steps and plunger position when last stopped
     *  (refSet starts unset: the first tick sets it). */
    private refFiredSteps: number
    private refPosUm: number
    private refSet: boolean
    private readonly backoff = new OcclusionBackoff()
    /** Start of the current run of garbled sensor snapshots, or -1. */
    private garbledSinceMs = -1
    private lastFiredSteps = NaN
    private syringeId = ""
    /** The program object last looked at: the syringe id is re-read only when it changes.
     *  Starts unset: the first check() looks once (no program: id "", nothing changes). */
    private lastProgram: InfusionProgram
    /** Unset (falsy) until trackSyringe finds one. */
    private syringe: SyringeSpec
    private plPerStep = 0
    private readonly umPerStep: number
    /** Last alarm code raised on the pump itself that was latched here ("" once released). */
    private pumpAlarmLatched = ""
    private lastAirInLine: boolean
    /** Alarm slot of each SAFETY_RULES entry, resolved once: the tick compares no code strings. */
    private readonly ruleSlots: number[] = []
    private readonly slotSensorFault: number
    private readonly slotDisengaged: number
    private readonly slotDriveMismatch: number
    /** One facts record, refilled every tick (no per-tick allocation). */
    private readonly facts: SafetyFacts
    /** Fact bits and the alarms' latch count when the rule table last ran (-1, or unset at the
     *  start: differs from any count, so the table runs next tick). */
    private ruleBits: number
    private ruleEdges: number
    /** Pump state last seen, and what the tick needs of it (re-derived only when it changes, so a
     *  steady tick compares no state strings). These fields and lastAirInLine start unset
     *  (undefined, no constructor code): the first check() sets them before anything reads them
     *  (no state and no rate is undefined), and acknowledge() reads lastAirInLine as falsy. */
    private lastState: PumpState
    private delivering: boolean
    /** F_DELIVERING and F_VTBI_DONE of the state last seen. */
    private stateBits: number
    private inAlarm: boolean
    private inPaused: boolean
    /** When the pump entered Paused (set on the state change, read only while paused). */
    private pausedSinceMs: number
    /** The once-a-second pass (detect): when it is next due, and the bits it found (PAUSED_LONG),
     *  OR-ed into every tick until the next pass. Unset until the first pass: `!(now < undefined)`
     *  is true, so the first valid tick runs it. */
    private slowDueMs: number
    private slowBits: number
    /** The every-10-s battery level pass: when next due, and its F_BATTERY_* bits. */
    private batteryDueMs: number
    private batteryBits = 0
    /** Where the syringe level check starts (levelCheckFromUm), for this rate and syringe. */
    private levelFromUm: number
    private levelRate: number
    private levelSyringe: SyringeSpec
    private inStandby: boolean
    /** The one result record `check` returns (read at once by the caller). */
    private readonly out: SafetyTick = { reverseSteps: 0 }

    constructor(pump: PumpController, log: EventSink, cfg: SafetyConfig) {
        const e = validateAirConfig(cfg.air)
        if (e.length > 0) throw new Error(e)
        this.cfg = cfg
        this.pump = pump
        this.log = log
        this.alarms = new AlarmManager(log)
        this.occlusion = new OcclusionDetector(cfg.occlusion)
        this.air = new AirDetector(cfg.air)
        this.umPerStep = 1000 / microstepsPerMm(pump.config.mechanics)
        for (let i = 0; i < SAFETY_RULES.length; i++) this.ruleSlots.push(this.alarms.indexOf(SAFETY_RULES[i].code))
        this.slotSensorFault = this.alarms.indexOf("SENSOR_FAULT")
        this.slotDisengaged = this.alarms.indexOf("SYRINGE_DISENGAGED")
        this.slotDriveMismatch = this.alarms.indexOf("DRIVE_MISMATCH")
        // Filled by detect() before applyRules() reads it (a latch's detail quotes only figures
        // detect set on that tick); the level record is filled by syringeLevel().
        this.facts = { level: {} as SyringeLevel } as SafetyFacts
    }

    /** Runs before `pump.update(nowMs)` in every tick. */
    check(nowMs: number, s: SensorSnapshot): SafetyTick {
        const c = this.cfg
        // A tick on time only moves the timing reference (no call); a gap over the overrun limit
        // (or the first tick: lastCheckMs -1 gives a gap above it) goes to LoopTiming.update.
        const t = this.timing
        if (nowMs - t.lastCheckMs > c.overrunMs) t.update(nowMs, c.watchdogMs, c.overrunMs, this.log)
        else t.lastCheckMs = nowMs
        const pump = this.pump
        if (pump.program !== this.lastProgram) this.trackSyringe(nowMs)
        const state = pump.sm.current
        if (state !== this.lastState) {
            this.lastState = state
            this.delivering = isDelivering(state)
            this.stateBits = (this.delivering ? F_DELIVERING : 0) | (state === "KVO" || state === "Complete" ? F_VTBI_DONE : 0)
            this.inAlarm = state === "Alarm"
            this.inPaused = state === "Paused"
            this.pausedSinceMs = nowMs
            // The once-a-second pass reads the state: it runs on this tick (a warning ends with its state).
            this.slowDueMs = nowMs
            this.inStandby = state === "Standby"
        }
        const delivering = this.delivering
        if (this.inAlarm) this.latchPumpAlarm(nowMs)
        const out = this.out
        out.reverseSteps = 0
        // A field is a number and not NaN exactly when unary plus gives it back: +"5", +null,
        // +true and +undefined are numbers that differ (===) from the original, and NaN !== NaN.
        // Inline: four calls a tick cost more than the checks themselves.
        if (
            !(
                s &&
                +s.pressureAdc === s.pressureAdc &&
                +s.batteryMv === s.batteryMv &&
                +s.firedSteps === s.firedSteps &&
                +s.plungerPositionUm === s.plungerPositionUm
            )
        ) {
            // Logged once per episode: a record every 20 ms tick would push the whole history
            // (alarms, overrides) out of the ring. The episode's length is logged when it ends.
            if (this.garbledSinceMs < 0) {
                this.garbledSinceMs = nowMs
                this.log.record(nowMs, "SENSOR_GARBLED", "snapshot has a non-numeric field")
            }
            this.alarms.setCauseAt(nowMs, this.slotSensorFault, true, "garbled snapshot")
            // SENSOR_FAULT's cause was set outside the rule table: the next valid tick runs it.
            this.ruleBits = -1
            this.enforce(nowMs)
            return out
        }
        if (this.garbledSinceMs >= 0) {
            this.log.record(nowMs, "SENSOR_GARBLED_END", "valid snapshots again after " + (nowMs - this.garbledSinceMs) + "ms")
            this.garbledSinceMs = -1
        }
        const bits = this.detect(nowMs, s, delivering)
        // The rules read only the bits and the latched set (rules.ts): a tick where neither
        // changed would set every cause to what it already is, so it runs no rule.
        const a = this.alarms
        if (bits !== this.ruleBits || a.latchEdges !== this.ruleEdges) {
            this.applyRules(nowMs, bits, s.pressureAdc)
            this.ruleBits = bits
            this.ruleEdges = a.latchEdges
        }
        // enforce() has nothing to do with no alarm latched and the pump not in Alarm.
        if (a.latchedN > 0 || this.inAlarm) this.enforce(nowMs)
        if (this.backoff.active) {
            const driveUnsafe = a.slots[this.slotDisengaged].latched || a.slots[this.slotDriveMismatch].latched || a.slots[this.slotSensorFault].latched
            out.reverseSteps = this.backoff.tick(nowMs, driveUnsafe, this.plPerStep, c, this.log)
        }
        return out
    }

    /** Operator acknowledge: clears alarms whose cause is gone; leaves Alarm when no stopping
     *  alarm remains (the pump returns to Paused, never to delivering). */
    acknowledge(nowMs: number) {
        // Acknowledging the cumulative-air alarm with no air in the detector is the operator's
        // statement that the line was purged: the rolling sum restarts (logged).
        const a = this.alarms
        if (a.slots[a.indexOf("AIR_CUMULATIVE")].latched && !this.lastAirInLine) {
            this.air.resetHistory()
            this.log.record(nowMs, "AIR_HISTORY_RESET", "cumulative air acknowledged by operator")
        }
        a.acknowledge(nowMs)
        this.releaseIfClear(nowMs)
    }

    pauseAudio(nowMs: number): boolean {
        return this.alarms.pauseAudio(nowMs)
    }

    annunciation(nowMs: number): Annunciation {
        return this.alarms.annunciation(nowMs)
    }

    isBackingOff(): boolean {
        return this.backoff.active
    }

    // ---- internals ------------------------------------------------------------------------

    /** Runs every detector on a valid snapshot; returns the fact bits (rules.ts F_*) and
     *  leaves the figures the detail texts quote in this.facts. */
    private detect(nowMs: number, s: SensorSnapshot, delivering: boolean): number {
        const c = this.cfg
        const f = this.facts
        let b = this.stateBits
        // Volume moved this tick, from the engine's own count.
        const dSteps = isNaN(this.lastFiredSteps) ? 0 : s.firedSteps - this.lastFiredSteps
        this.lastFiredSteps = s.firedSteps
        const pumpedUl = (dSteps * this.plPerStep) / 1000000
        // countsToMmHg inline (a call per tick).
        const pMmHg = (s.pressureAdc - c.pressureCal.offsetCounts) / c.pressureCal.countsPerMmHg
        // Pressure transducer plausibility (every period: SENSOR_FAULT stops delivery): out of ADC
        // range (open or short), stuck (a live front end dithers by >= 1 LSB, so no change for
        // stuckMs is a frozen reading), or implausibly low for 1 s (cannot occur in a pumped line).
        // Inline: a call per tick cost more than the checks.
        const counts = s.pressureAdc
        let pressureOk = counts >= c.adcMinCounts && counts <= c.adcMaxCounts
        if (counts !== this.lastCounts) {
            this.lastCounts = counts
            this.sameSinceMs = nowMs
        } else if (nowMs - this.sameSinceMs >= c.stuckMs) pressureOk = false
        if (pMmHg < c.implausibleLowMmHg) {
            if (this.lowSinceMs < 0) this.lowSinceMs = nowMs
            if (nowMs - this.lowSinceMs >= IMPLAUSIBLE_LOW_FOR_MS) pressureOk = false
        } else this.lowSinceMs = -1
        f.pressureOk = pressureOk
        if (pressureOk) {
            // The back-off's relief reading: the last two valid samples (no call, no array).
            const bo = this.backoff
            bo.prevMmHg = bo.lastMmHg
            bo.lastMmHg = pMmHg
            // f.occlusion is read only for OCCL_DOWN's detail, on a tick with F_OCCLUSION set.
            const v = this.occlusion.update(nowMs, pMmHg, pumpedUl, delivering)
            if (v.alarm) {
                f.occlusion = v
                b |= F_OCCLUSION
            }
        } else {
            b |= F_SENSOR_BAD | F_PRESSURE_BAD
            if (!this.alarms.slots[this.slotSensorFault].latched)
                this.log.record(nowMs, "SENSOR_RANGE", "pressure counts=" + s.pressureAdc + (nowMs - this.sameSinceMs >= c.stuckMs ? " stuck" : ""))
        }
        const air = this.air.update(nowMs, s.airInLine, pumpedUl)
        f.air = air
        if (air.single) b |= F_AIR_SINGLE
        if (air.cumulative) b |= F_AIR_CUMULATIVE
        this.lastAirInLine = s.airInLine
        if (s.airInLine) b |= F_AIR_IN_LINE
        if (s.doorOpen) b |= F_DOOR_OPEN
        if (!s.plungerEngaged) b |= F_DISENGAGED
        // The battery reading's range is a sensor check (SENSOR_FAULT stops delivery): every
        // period. Its level (LOW, DEPLETED) is read every 10 s below: a cell sags over minutes.
        const mv = s.batteryMv
        const mvOk = mv >= c.batteryMinMv && mv <= c.batteryMaxMv
        if (!mvOk) {
            b |= F_SENSOR_BAD
            if (!this.alarms.slots[this.slotSensorFault].latched) this.log.record(nowMs, "SENSOR_RANGE", "battery " + mv + "mV")
        }
        // The back-off only starts with an occlusion alarm, which needs delivering: "moving" is
        // the same before and after this tick's rules.
        const backingOff = this.backoff.active
        if (backingOff) b |= F_BACKING_OFF
        // Drive check (every period: DRIVE_MISMATCH stops delivery): the plunger position must
        // follow the steps the engine reports fired (a stall, a slipping coupling or a lost step
        // count shows as a position error); while stopped the reference follows the plunger.
        const moving = delivering || backingOff
        if (!moving || !this.refSet) {
            this.refFiredSteps = s.firedSteps
            this.refPosUm = s.plungerPositionUm
            this.refSet = true
        }
        if (moving) {
            const errUm = s.plungerPositionUm - (this.refPosUm + (s.firedSteps - this.refFiredSteps) * this.umPerStep)
            f.driveErrorUm = errUm
            if (errUm > c.positionMismatchUm || errUm < -c.positionMismatchUm) b |= F_DRIVE_MISMATCH
        }
        // The once-a-second pass (issue 16: each detector at the rate its physics needs): the
        // warnings measured in minutes, and the level threshold's rate. A new syringe runs it at
        // once, so the threshold never belongs to another syringe.
        const syr = this.syringe
        if (!(nowMs < this.slowDueMs) || syr !== this.levelSyringe) this.slowPass(nowMs, syr, mv, mvOk)
        // A reading out of range carries no level (the last valid level waits).
        b |= this.slowBits | (mvOk ? this.batteryBits : 0)
        // Syringe level: the full computation only from the position where empty or near empty
        // can begin (levelCheckFromUm: empty's margin whatever the rate, so a threshold up to a
        // second old never hides empty); below it neither holds, and nothing reads the figures.
        if (syr && s.plungerPositionUm >= this.levelFromUm) {
            const lvl = syringeLevel(f.level, syr, s.plungerPositionUm, this.pump.currentRateUlPerH, delivering, c.emptyTravelUm, c.nearEmptyMs)
            if (lvl.empty) b |= F_EMPTY
            if (lvl.nearEmpty) b |= F_NEAR_EMPTY
        }
        // A late tick within the last OVERRUN_HOLD_MS; a watchdog gap since the last valid tick
        // (taken: reported once).
        const t = this.timing
        if (t.overrunUntilMs >= nowMs) b |= F_OVERRUN
        if (t.watchdogSeen) {
            b |= F_WATCHDOG
            t.watchdogSeen = false
        }
        return b
    }

    /** The once-a-second pass (its own frame: detect's stays small on the every-tick path). */
    private slowPass(nowMs: number, syr: SyringeSpec, mv: number, mvOk: boolean) {
        const c = this.cfg
        this.slowDueMs = nowMs + 1000
        const rate = this.pump.currentRateUlPerH
        if (rate !== this.levelRate || syr !== this.levelSyringe) {
            this.levelRate = rate
            this.levelSyringe = syr
            this.levelFromUm = levelCheckFromUm(syr, rate, c.emptyTravelUm, c.nearEmptyMs)
        }
        // Paused 2 min, or a standby whose time came without a start (REQ-DOSE-010).
        this.slowBits = (this.inPaused && nowMs - this.pausedSinceMs >= c.pausedMaxMs) || (this.inStandby && nowMs >= this.pump.standbyUntilMs) ? F_PAUSED_LONG : 0
        // An out-of-range reading is no level: the level waits for a valid one.
        if (mvOk && !(nowMs < this.batteryDueMs)) {
            this.batteryDueMs = nowMs + 10000
            this.facts.batteryMv = mv
            this.batteryBits = (mv < c.batteryLowMv ? F_BATTERY_LOW : 0) | (mv < c.batteryDepletedMv ? F_BATTERY_DEPLETED : 0)
        }
    }

    /** The rule table, in order: a rule's cause, or its hold once latched, keeps the alarm. */
    private applyRules(nowMs: number, bits: number, pressureAdc: number) {
        const a = this.alarms
        const rules = SAFETY_RULES
        for (let i = 0; i < rules.length; i++) {
            const r = rules[i]
            if (r.needsPressure && (bits & F_PRESSURE_BAD) !== 0) continue
            const slot = this.ruleSlots[i]
            const latched = a.slots[slot].latched
            const raised = (bits & r.cause) === r.cause
            const present = raised || (latched && r.hold !== 0 && (bits & r.hold) === r.hold)
            // Detail text is built only on the tick that latches the alarm (it is then logged).
            a.setCauseAt(nowMs, slot, present, present && !latched ? ruleDetail(r, this.facts) : "")
            if (raised && !latched && r.action === "STOP_BACK_OFF") {
                this.backoff.start(nowMs, countsToMmHg(this.cfg.pressureCal, pressureAdc), this.occlusion.markAlarm(), this.occlusion.cfg.complianceUlPerMmHg, this.plPerStep, this.cfg, this.log)
            }
        }
    }

    private enforce(nowMs: number) {
        // The first latched alarm (table order) that stops delivery is raised on the pump.
        const code = this.alarms.stoppingCode()
        if (code.length > 0) {
            const st = this.pump.state()
            if (st !== "Alarm" && st !== "OutOfService") this.pump.raiseAlarm(nowMs, code as AlarmCode, "safety monitor")
        } else if (this.inAlarm) this.releaseIfClear(nowMs)
    }

    private releaseIfClear(nowMs: number) {
        if (this.pump.state() === "Alarm" && this.alarms.stoppingCode().length === 0 && !this.backoff.active) {
            // Only after the operator acknowledged: a cleared slot was acknowledged by definition.
            this.pumpAlarmLatched = ""
            this.pump.resetAlarm(nowMs)
        }
    }

    /** An alarm raised on the pump directly (e.g. DRIVE_FAULT by the control loop) is latched
     *  here too, so it is annunciated and must be acknowledged like any other. */
    private latchPumpAlarm(nowMs: number) {
        const code = this.pump.alarmCodeNow()
        if (code.length === 0 || code === this.pumpAlarmLatched) return
        // Unknown codes (e.g. restored from another firmware version's snapshot) latch as
        // PUMP_ALARM so the pump never leaves Alarm unacknowledged.
        const a = this.alarms
        let i = a.indexOf(code as AlarmCode)
        if (i >= 0 && a.slots[i].latched) return
        this.pumpAlarmLatched = code
        if (i < 0) i = a.indexOf("PUMP_ALARM")
        a.setCauseAt(nowMs, i, true, "raised by pump: " + code)
        a.setCauseAt(nowMs, i, false, "")
    }

    private trackSyringe(nowMs: number) {
        const prog = this.pump.program
        this.lastProgram = prog
        const id = prog ? prog.syringeId : ""
        if (id === this.syringeId) return
        this.syringeId = id
        const syr = id.length > 0 ? findSyringe(id) : null
        this.syringe = syr
        this.plPerStep = syr ? picolitresPerMicrostep(syr, this.pump.config.mechanics) : 0
        const occ = this.occlusion
        if (syr && this.cfg.autoCompliance) occ.cfg = withSyringeCompliance(this.cfg.occlusion, syr.innerDiameterUm)
        this.log.record(nowMs, "SAFETY_SYRINGE", id + " pL/step=" + this.plPerStep + " C=" + occ.cfg.complianceUlPerMmHg)
    }
}
