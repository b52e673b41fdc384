// Pump controller: the one place that combines program, state machine, step planner and volume
// accounting. It owns no clock and no hardware: the control loop passes `nowMs` in and fires
// the steps it returns, so the same object runs on the device, in the simulator and in vitest.

import { EventKind } from "./eventKinds"
import { EventSink } from "./eventLog"
import { AlarmCode } from "./safety/alarmCodes"
import { bolusRateUlPerH, InfusionProgram, MAX_BOLUS_DURATION_S, MIN_BOLUS_DURATION_S, MIN_BOLUS_UL, syringeRateProblem, validateProgram } from "./program"
import { DoseConcentration } from "./doseConcentration"
import { DoseWindowTracker } from "./doseLimit"
import { PlannerConfig, StepPlanner } from "./planner"
import { isDelivering, PumpEvent, PumpState, PumpStateMachine } from "./pumpStates"
import { findSyringe, fullTravelMicrosteps, Mechanics, picolitresPerMicrostep, REFERENCE_MECHANICS, SyringeSpec, validateMechanics } from "./syringe"
import { floorDiv, isWholeNumber, PL_PER_UL } from "./units"
import { VolumeAccount } from "./volume"

export interface PumpConfig {
    mechanics: Mechanics
    tickMs: number
    /** Drive acceleration limit in µsteps/s². */
    accelStepsPerS2: number
}

/** The control period: one tick every 20 ms (50 Hz), on the device, in the VM and on the host. */
export const CONTROL_PERIOD_MS = 100
/** Reference drive acceleration (µsteps/s²), applied per ms of elapsed time by the planner. */
export const REFERENCE_ACCEL_STEPS_PER_S2 = 20000

/** The one reference configuration every image, rig, benchmark and test uses. A test that varies
 *  a field spreads this and overrides that field. */
export const REFERENCE_PUMP_CONFIG: PumpConfig = {
    mechanics: REFERENCE_MECHANICS,
    tickMs: CONTROL_PERIOD_MS,
    accelStepsPerS2: REFERENCE_ACCEL_STEPS_PER_S2,
}

export interface CommandResult {
    ok: boolean
    reason: string
}

export interface TickOutput {
    steps: number
    forward: boolean
    motorEnabled: boolean
}

export interface PumpStatus {
    state: PumpState
    rateUlPerH: number
    /** Whole µL infused, rounded DOWN (accounting: remaining volume, records). */
    infusedUl: number
    /** Infused volume in nL, rounded down (sub-µL resolution for reports). */
    infusedNl: number
    /** Infused volume for DISPLAY: nearest whole µL, halves up (a completed 1000 µL program whose
     *  steps hold 999.886 µL shows 1000, not 999). Never above the VTBI while the VTBI caps the
     *  steps, because the true volume is <= VTBI and the VTBI is a whole number of µL. */
    infusedDisplayUl: number
    /** Drug given, in thousandths of `doseAmountUnit` (nearest, halves up), from the commanded
     *  steps and the concentration set with `setConcentration`; -1 without one. Loading dose,
     *  boluses and KVO are all included (it is everything the plunger was told to deliver). */
    doseGivenThousandths: number
    /** Amount unit code (druglib/doseUnits.ts AMT_*) of doseGivenThousandths; -1 without one. */
    doseAmountUnit: number
    /** Loading dose programmed for this infusion (µL, 0 if none) and the part delivered so far
     *  (µL, rounded down). */
    loadingUl: number
    loadingGivenUl: number
    /** Standby: time (ms since boot) the infusion starts (autoStart) or the reminder is due;
     *  -1 outside Standby. */
    standbyUntilMs: number
    standbyAutoStart: boolean
    bolusUl: number
    vtbiUl: number
    remainingUl: number
    alarmCode: string
    program: InfusionProgram
}

export interface PumpSnapshot {
    state: PumpState
    /** State the current alarm interrupted. */
    interrupted: PumpState
    program: InfusionProgram
    steps: number
    bolusSteps: number
    alarmCode: string
    outOfServiceReason: string
}

const OK: CommandResult = { ok: true, reason: "" }

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class PumpController {
    readonly config: PumpConfig
    private readonly log: EventSink
    /** Read directly by the monitor every tick (sm.current: no state() call); only the pump moves it. */
    readonly sm = new PumpStateMachine()
    /** The loaded program and the rate planned in the last tick (µL/h), read directly by the
     *  monitor every tick and by the firmware's status lines (a method call each costs VM
     *  opcodes and image bytes); only the pump writes them. */
    program: InfusionProgram = null
    currentRateUlPerH = 0
    private syringe: SyringeSpec = null
    private planner: StepPlanner = null
    private volume: VolumeAccount = null
    private vtbiSteps = 0
    private bolusTargetSteps = 0
    private lastMs = -1
    private alarmCode = ""
    /** The last ALARM_EXTRA text logged: an identical one in a row is not logged again. */
    private lastExtraText = ""
    private outOfServiceReason = ""
    private plPerMicrostep = 0
    // Loading dose phase: its volume target in steps and the steps delivered in it.
    private loadingUl = 0
    private loadingDurationS = 0
    private loadingTargetSteps = 0
    private loadingSteps = 0
    // Concentration for the dose display and dose limits (null until setConcentration).
    private concentration: DoseConcentration = null
    // Run-time dose windows (null until a limit is set) and the PCA bolus lockout.
    private doseWindows: DoseWindowTracker = null
    private bolusLockoutMs = 0
    private lastBolusStartMs = -1
    /** Planned start of a standby (the monitor reads it: in Standby at or past it, the
     *  reminder is due). */
    standbyUntilMs = -1
    private standbyAutoStart = false

    constructor(config: PumpConfig, log: EventSink) {
        const errors = validateMechanics(config.mechanics)
        if (errors.length > 0) throw new Error("invalid mechanics: " + errors.join("; "))
        this.config = config
        this.log = log
    }

    state(): PumpState {
        return this.sm.current
    }

    // ---- commands -------------------------------------------------------------------------

    loadProgram(nowMs: number, p: InfusionProgram): CommandResult {
        const no = this.refused(nowMs, "program")
        if (no) return no
        const syringe = p ? findSyringe(p.syringeId) : null
        const v = validateProgram(p, syringe, this.config.mechanics)
        if (!v.ok) return this.reject(nowMs, "program", v.errors.join("; "))
        const plPerMicrostep = this.install(p, syringe)
        this.forgetLoadingAndDrug()
        this.log.record(
            nowMs,
            "PROGRAM",
            "syringe=" + p.syringeId + " rate=" + p.rateUlPerH + "uL/h vtbi=" + p.vtbiUl + "uL kvo=" + p.kvoRateUlPerH +
                "uL/h bolus=" + p.bolusUl + "uL/" + p.bolusDurationS + "s pL/step=" + plPerMicrostep
        )
        this.transition(nowMs, "program")
        return OK
    }

    /** Starts delivery; with a loading dose still owed the loading phase runs first. */
    start(nowMs: number): CommandResult {
        return this.startOrResume(nowMs, "start", "startLoading")
    }

    pause(nowMs: number): CommandResult {
        return this.simple(nowMs, "pause")
    }

    resume(nowMs: number): CommandResult {
        return this.startOrResume(nowMs, "resume", "resumeLoading")
    }

    /** Start or resume (`ev`), as `loadingEv` while a loading dose is still owed. Refused when
     *  the state machine would take the event but the dose windows would be crossed. */
    private startOrResume(nowMs: number, ev: PumpEvent, loadingEv: PumpEvent): CommandResult {
        const loadingLeftSteps = this.loadingTargetSteps - this.loadingSteps
        const loading = this.loadingTargetSteps > 0 && loadingLeftSteps > 0
        const why = this.doseWindowProblem(nowMs, loading ? "loading dose" : ev, loading ? loadingLeftSteps : 1)
        if (why.length > 0 && this.sm.check(ev).ok) return this.reject(nowMs, ev, why)
        return this.simple(nowMs, loading ? loadingEv : ev)
    }

    stop(nowMs: number): CommandResult {
        return this.simple(nowMs, "stop")
    }

    clear(nowMs: number): CommandResult {
        const r = this.simple(nowMs, "clear")
        if (r.ok) {
            this.program = null
            this.forgetLoadingAndDrug()
        }
        return r
    }

    /** Adds a loading dose to the program just loaded: `ul` µL over `durationS` s, delivered at
     *  its own rate before the maintenance rate. Allowed only in Programmed before any step of
     *  this program; 0 µL removes it. Checked against the pump's bolus limits (volume >= 100 µL,
     *  1..3600 s), the VTBI (the loading volume is part of it) and the syringe's rate limit.
     *  @devsWhenUsed (compiled into an image only if it calls this) */
    setLoadingDose(nowMs: number, ul: number, durationS: number): CommandResult {
        if (this.sm.current !== "Programmed" || !this.program) return this.reject(nowMs, "loading", "a loading dose can only be set in Programmed, not " + this.sm.current)
        if (this.volume.totalSteps > 0) return this.reject(nowMs, "loading", "this infusion has already started")
        if (!isWholeNumber(ul) || ul < 0) return this.reject(nowMs, "loading", "loadingUl must be a whole number of µL")
        if (ul === 0) {
            this.loadingUl = 0
            this.loadingDurationS = 0
            this.loadingTargetSteps = 0
            this.log.record(nowMs, "LOADING_SET", "none")
            return OK
        }
        if (ul < MIN_BOLUS_UL) return this.reject(nowMs, "loading", "loadingUl: " + ul + " µL is below the minimum " + MIN_BOLUS_UL)
        if (ul > this.program.vtbiUl) return this.reject(nowMs, "loading", "loadingUl: " + ul + " µL is more than the VTBI " + this.program.vtbiUl + " µL")
        if (!isWholeNumber(durationS) || durationS < MIN_BOLUS_DURATION_S || durationS > MAX_BOLUS_DURATION_S)
            return this.reject(nowMs, "loading", "loadingDurationS: must be a whole number " + MIN_BOLUS_DURATION_S + ".." + MAX_BOLUS_DURATION_S + " s")
        const rate = loadingRateUlPerH(ul, durationS)
        const why = syringeRateProblem("loading dose over " + durationS + " s", rate, this.syringe, this.config.mechanics)
        if (why.length > 0) return this.reject(nowMs, "loading", why)
        this.loadingUl = ul
        this.loadingDurationS = durationS
        this.loadingTargetSteps = this.volume.stepsFor(ul)
        this.loadingSteps = 0
        this.log.record(nowMs, "LOADING_SET", "loading=" + ul + "uL/" + durationS + "s rate=" + rate + "uL/h steps=" + this.loadingTargetSteps)
        return OK
    }

    /** Adds a run-time dose limit (REQ-DOSE-009): at most `maxAmountThousandths` of the
     *  concentration's amount unit in any `windowMin` minutes (1..240), counting every step
     *  (continuous, loading, bolus, titrated rate, KVO). Needs `setConcentration` first; allowed in
     *  Programmed and Paused. The limit becomes a whole number of steps rounded down.
     *  @devsWhenUsed (compiled into an image only if it calls this) */
    setDoseLimit(nowMs: number, windowMin: number, maxAmountThousandths: number): CommandResult {
        const st = this.sm.current
        if (!this.program || (st !== "Programmed" && st !== "Paused")) return this.reject(nowMs, "doseLimit", "a dose limit can be set in Programmed or Paused, not " + st)
        const c = this.concentration
        if (!c || c.num <= 0) return this.reject(nowMs, "doseLimit", "set the concentration first")
        if (!isWholeNumber(maxAmountThousandths) || maxAmountThousandths <= 0) return this.reject(nowMs, "doseLimit", "maximum must be a positive whole number of thousandths")
        // steps × num / den <= max  <=>  steps <= floor(max × den / num)
        const prod = maxAmountThousandths * c.den
        if (prod > 9007199254740991) return this.reject(nowMs, "doseLimit", "maximum cannot be converted to steps exactly")
        const maxSteps = floorDiv(prod, c.num)
        if (!this.doseWindows) {
            this.doseWindows = new DoseWindowTracker()
            this.doseWindows.advance(nowMs)
            // REQ-PWR-006: what this program delivered before its first limit has no time kept
            // (after a power cut it includes the unsaved bound): it counts as given this minute,
            // so the allowance is a lower bound on the true one, never more.
            this.doseWindows.add(this.volume.totalSteps)
        }
        this.doseWindows.advance(nowMs)
        const why = this.doseWindows.addLimit(windowMin, maxSteps)
        if (why.length > 0) return this.reject(nowMs, "doseLimit", why)
        this.log.record(nowMs, "DOSE_LIMIT_SET", "max=" + maxAmountThousandths + "/1000 unit#" + c.amountUnit + " per " + windowMin + "min = " + maxSteps + " steps")
        return OK
    }

    /** Puts a programmed infusion in Standby until `untilMs` (ms since boot, at most 24 h ahead).
     *  autoStart: it starts by itself at that time (delayed start; the first tick after the start
     *  fires no step, so the safety check sees the delivering state before any step). Otherwise it
     *  waits for start (confirmation) and from `untilMs` the paused-too-long reminder (PAUSED_LONG)
     *  is raised until it is started or stopped.
     *  @devsWhenUsed (compiled into an image only if it calls this) */
    standby(nowMs: number, untilMs: number, autoStart: boolean): CommandResult {
        const no = this.refused(nowMs, "standby")
        if (no) return no
        if (!isWholeNumber(untilMs) || untilMs <= nowMs || untilMs - nowMs > 24 * 3600000)
            return this.reject(nowMs, "standby", "start time must be a whole ms after now and at most 24 h ahead")
        this.standbyUntilMs = untilMs
        this.standbyAutoStart = autoStart
        this.log.record(nowMs, "STANDBY", (autoStart ? "start at " : "remind at ") + untilMs + "ms (in " + Math.ceil((untilMs - nowMs) / 1000) + " s)")
        this.transition(nowMs, "standby")
        return OK
    }

    /** PCA lockout: a bolus is refused until `lockoutMs` after the start of the previous one.
     *  @devsWhenUsed (compiled into an image only if it calls this) */
    setBolusLockout(nowMs: number, lockoutMs: number): CommandResult {
        if (!this.program) return this.reject(nowMs, "lockout", "no program is loaded")
        if (!isWholeNumber(lockoutMs) || lockoutMs < 0 || lockoutMs > 24 * 3600000) return this.reject(nowMs, "lockout", "lockout must be 0..86400000 ms")
        this.bolusLockoutMs = lockoutMs
        // REQ-PWR-006: a bolus with no start time kept (given before a power cut) counts as started now.
        if (this.lastBolusStartMs < 0 && this.volume.bolusSteps > 0) this.lastBolusStartMs = nowMs
        this.log.record(nowMs, "DOSE_LIMIT_SET", "bolus lockout=" + lockoutMs + "ms")
        return OK
    }

    /** Reason a delivery of `steps` more steps would cross a dose window now, or "". */
    private doseWindowProblem(nowMs: number, what: string, steps: number): string {
        const w = this.doseWindows
        if (!w) return ""
        w.advance(nowMs)
        const a = w.allowance()
        if (a < 0 || steps <= a) return ""
        const l = w.limit(w.tightest())
        return what + " would exceed the maximum dose in " + l.windowMin + " min (" + a + " of " + l.maxSteps + " steps left)"
    }

    /** Concentration of the loaded syringe, for the dose-given display: `amountThousandths` of
     *  amount unit `amountUnit` (AMT_G..AMT_MEQ) in `volumeUl` µL. Allowed while a program is
     *  loaded; cleared by a new program or clear.
     *  @devsWhenUsed (compiled into an image only if it calls this) */
    setConcentration(nowMs: number, amountUnit: number, amountThousandths: number, volumeUl: number): CommandResult {
        if (!this.program) return this.reject(nowMs, "concentration", "no program is loaded")
        if (this.doseWindows) return this.reject(nowMs, "concentration", "dose limits are set for the current concentration; load the program again to change it")
        if (!isWholeNumber(amountUnit) || amountUnit < 1 || amountUnit > 8)
            return this.reject(nowMs, "concentration", "amount unit must be a drug amount unit code 1..8")
        if (!isWholeNumber(amountThousandths) || amountThousandths <= 0 || !isWholeNumber(volumeUl) || volumeUl <= 0)
            return this.reject(nowMs, "concentration", "amount and volume must be positive whole numbers")
        const travel = fullTravelMicrosteps(this.syringe, this.config.mechanics)
        this.concentration = new DoseConcentration(amountUnit, amountThousandths, volumeUl, this.plPerMicrostep, travel)
        this.log.record(nowMs, "DRUG_CONCENTRATION", "amount=" + amountThousandths + "/1000 unit#" + amountUnit + " in " + volumeUl + "uL")
        return OK
    }

    /** Changes the primary rate of the loaded infusion while Running or Paused. Only the pump's
     *  own range is checked here; drug limits are checked before this (druglib/titrate.ts). */
    titrate(nowMs: number, rateUlPerH: number): CommandResult {
        const no = this.refused(nowMs, "titrate")
        if (no) return no
        const p = this.program
        // KVO may not exceed the primary rate; a lower one is stated in the TITRATE record.
        const next = programWith(p, rateUlPerH, p.kvoRateUlPerH <= rateUlPerH ? p.kvoRateUlPerH : rateUlPerH, p.bolusUl, p.bolusDurationS)
        const v = validateProgram(next, this.syringe, this.config.mechanics)
        if (!v.ok) return this.reject(nowMs, "titrate", v.errors.join("; "))
        this.log.record(nowMs, "TITRATE", "rate " + p.rateUlPerH + "->" + rateUlPerH + "uL/h kvo=" + next.kvoRateUlPerH + "uL/h")
        this.program = next
        this.transition(nowMs, "titrate")
        return OK
    }

    /** Starts the programmed bolus, or (front panel) a bolus of `bolusUl` over `bolusDurationS`
     *  whose dose the drug library has already checked (druglib/dosing.ts checkBolus). */
    bolus(nowMs: number, bolusUl?: number, bolusDurationS?: number): CommandResult {
        const no = this.refused(nowMs, "bolus")
        if (no) return no
        if (bolusUl !== undefined) {
            const p = this.program
            const next = programWith(p, p.rateUlPerH, p.kvoRateUlPerH, bolusUl, bolusDurationS)
            const v = validateProgram(next, this.syringe)
            if (!v.ok || bolusUl <= 0) return this.reject(nowMs, "bolus", v.ok ? "bolus volume must be positive" : v.errors.join("; "))
            this.log.record(nowMs, "BOLUS_SET", "bolus=" + bolusUl + "uL/" + bolusDurationS + "s")
            this.program = next
        }
        if (this.program.bolusUl <= 0) return this.reject(nowMs, "bolus", "no bolus is programmed")
        if (this.bolusLockoutMs > 0 && this.lastBolusStartMs >= 0 && nowMs - this.lastBolusStartMs < this.bolusLockoutMs)
            return this.reject(nowMs, "bolus", "lockout: next bolus allowed in " + Math.ceil((this.lastBolusStartMs + this.bolusLockoutMs - nowMs) / 1000) + " s")
        const bolusSteps = this.volume.stepsFor(this.program.bolusUl)
        const why = this.doseWindowProblem(nowMs, "bolus", bolusSteps)
        if (why.length > 0) return this.reject(nowMs, "bolus", why)
        this.bolusTargetSteps = this.volume.bolusSteps + bolusSteps
        this.lastBolusStartMs = nowMs
        return this.simple(nowMs, "bolus")
    }

    /** Stops delivery at once and latches `code` until `resetAlarm`. */
    raiseAlarm(nowMs: number, code: AlarmCode, detail: string): CommandResult {
        const gate = this.sm.check("alarm")
        if (!gate.ok) {
            // Already alarming or out of service: delivery is stopped; keep the record, once. A
            // cause that repeats every tick (a latched drive fault during back-off) would
            // otherwise write a record per 20 ms: the RAM log, the VM heap and the flash log all
            // ran out in the HIL (occlusion-near-disc).
            const text = code + " " + detail + " (state " + this.sm.current + ")"
            if (text !== this.lastExtraText) {
                this.lastExtraText = text
                this.log.record(nowMs, "ALARM_EXTRA", text)
            }
            return { ok: false, reason: gate.reason }
        }
        this.lastExtraText = ""
        this.alarmCode = code
        this.log.record(nowMs, "ALARM", code + " " + detail)
        this.transition(nowMs, "alarm")
        return OK
    }

    resetAlarm(nowMs: number): CommandResult {
        const r = this.simple(nowMs, "alarmReset")
        if (r.ok) this.alarmCode = ""
        return r
    }

    setOutOfService(nowMs: number, reason: string): CommandResult {
        const no = this.refused(nowMs, "outOfService")
        if (no) return no
        this.outOfServiceReason = reason
        this.log.record(nowMs, "OUT_OF_SERVICE", reason)
        this.transition(nowMs, "outOfService")
        return OK
    }

    returnToService(nowMs: number): CommandResult {
        const r = this.simple(nowMs, "returnToService")
        if (r.ok) this.outOfServiceReason = ""
        return r
    }

    outOfServiceText(): string {
        return this.outOfServiceReason
    }

    // ---- control tick ---------------------------------------------------------------------

    /** One control tick: how many microsteps to fire now. Accounts them as delivered. */
    update(nowMs: number): TickOutput {
        const elapsedMs = this.lastMs < 0 ? 0 : nowMs - this.lastMs
        this.lastMs = nowMs
        // One exit, one result record: steps > 0 only on the delivering path (motor enabled).
        let steps = 0
        let on = false
        let rateUlPerH = 0
        const s = this.sm.current
        if (this.standbyAutoStart && nowMs >= this.standbyUntilMs && s === "Standby") {
            // Delayed start: no step in this tick (the monitor checked a non-delivering state).
            this.standbyAutoStart = false
            this.start(nowMs)
        } else if (!isDelivering(s)) {
            if (this.planner) this.planner.reset()
        } else {
            if (elapsedMs < 0) this.log.record(nowMs, "CLOCK_BACKWARDS", "elapsed=" + elapsedMs + "ms; tick skipped")
            const p = this.program
            const vol = this.volume
            // The delivering state, compared once (s is Running, Bolus, KVO or Loading here);
            // Running, the usual one, is none of the others (one compare).
            let bolus = false
            let kvo = false
            let loading = false
            rateUlPerH = p.rateUlPerH
            if (s !== "Running") {
                bolus = s === "Bolus"
                kvo = s === "KVO"
                loading = s === "Loading"
                if (bolus) rateUlPerH = bolusRateUlPerH(p)
                else if (kvo) rateUlPerH = p.kvoRateUlPerH
                else if (loading) rateUlPerH = loadingRateUlPerH(this.loadingUl, this.loadingDurationS)
            }
            let limit = this.vtbiSteps - vol.totalSteps
            if (bolus) {
                const bolusLeft = this.bolusTargetSteps - vol.bolusSteps
                if (bolusLeft < limit) limit = bolusLeft
            }
            if (loading) {
                const loadingLeft = this.loadingTargetSteps - this.loadingSteps
                if (loadingLeft < limit) limit = loadingLeft
            }
            // KVO runs until the syringe's travel is used up; the empty alarm is the detector's job.
            if (kvo) limit = fullTravelMicrosteps(this.syringe, this.config.mechanics) - vol.totalSteps
            // Dose windows cap the tick BEFORE planning: a step that would cross a limit is never fired.
            const w = this.doseWindows
            if (w) {
                w.advance(nowMs)
                const allowance = w.allowance()
                if (allowance >= 0 && allowance < limit) limit = allowance
            }
            const plan = this.planner.plan(rateUlPerH, elapsedMs, limit)
            if (plan.overrunMs > 0) this.log.record(nowMs, "LOOP_OVERRUN", "late by " + plan.overrunMs + "ms; time not made up")
            steps = plan.steps
            on = true
            vol.totalSteps += steps
            if (bolus) vol.bolusSteps += steps
            if (loading) this.loadingSteps += steps
            if (w) w.add(steps)
            if (w && w.allowance() === 0) {
                const l = w.limit(w.tightest())
                this.raiseAlarm(nowMs, "DOSE_LIMIT", "maximum " + l.maxSteps + " steps in " + l.windowMin + " min reached")
            } else if (steps >= limit) {
                // End of a phase: the VTBI (any volume-limited state: all but KVO), the loading dose, the bolus.
                // Only on a tick that reached its cap: limit is at most each target's steps left and
                // steps at most max(limit, 0), so a target is reached only when steps >= limit.
                let kind: EventKind = "VTBI_DONE"
                let what = ""
                let ev: PumpEvent = null
                if (!kvo && vol.totalSteps >= this.vtbiSteps) {
                    what = "infused=" + vol.infusedUl() + "uL"
                    ev = p.kvoRateUlPerH > 0 ? "vtbiDoneKvo" : "vtbiDone"
                } else if (loading && this.loadingSteps >= this.loadingTargetSteps) {
                    kind = "LOADING_DONE"
                    what = "loading=" + floorDiv(this.loadingSteps * this.plPerMicrostep, PL_PER_UL) + "uL steps=" + this.loadingSteps
                    ev = "loadingDone"
                } else if (bolus && vol.bolusSteps >= this.bolusTargetSteps) {
                    kind = "BOLUS_DONE"
                    what = "bolus=" + vol.bolusUl() + "uL"
                    ev = "bolusDone"
                }
                if (ev) {
                    this.log.record(nowMs, kind, what)
                    this.planner.reset()
                    this.transition(nowMs, ev)
                }
            }
        }
        this.currentRateUlPerH = rateUlPerH
        return { steps: steps, forward: true, motorEnabled: on }
    }

    status(): PumpStatus {
        const v = this.volume
        const c = this.concentration
        const infused = v ? v.infusedUl() : 0
        const vtbi = this.program ? this.program.vtbiUl : 0
        const standby = this.sm.current === "Standby"
        return {
            state: this.sm.current,
            rateUlPerH: this.currentRateUlPerH,
            infusedUl: infused,
            infusedNl: v ? v.infusedNl() : 0,
            infusedDisplayUl: v ? v.displayUl() : 0,
            doseGivenThousandths: c ? c.givenThousandths(v ? v.totalSteps : 0, this.plPerMicrostep) : -1,
            doseAmountUnit: c ? c.amountUnit : -1,
            loadingUl: this.loadingUl,
            loadingGivenUl: floorDiv(this.loadingSteps * this.plPerMicrostep, PL_PER_UL),
            standbyUntilMs: standby ? this.standbyUntilMs : -1,
            standbyAutoStart: standby && this.standbyAutoStart,
            bolusUl: v ? v.bolusUl() : 0,
            vtbiUl: vtbi,
            remainingUl: vtbi > infused ? vtbi - infused : 0,
            alarmCode: this.alarmCode,
            program: this.program,
        }
    }

    // Per-tick readers (the safety monitor) use these and the fields above instead of status(),
    // which builds an object.
    alarmCodeNow(): string {
        return this.alarmCode
    }

    /** status().infusedUl without building status(): its 17-field object needs a 292-byte block,
     *  which a fragmented VM heap did not have (HIL OutOfMemory at 2,202 s, REQ-HEAP-002). */
    infusedUlNow(): number {
        return this.volume ? this.volume.infusedUl() : 0
    }

    /** status().bolusUl, likewise. */
    bolusUlNow(): number {
        return this.volume ? this.volume.bolusUl() : 0
    }

    /** Steps commanded since the program was loaded (for position checks and persistence). */
    stepsCommanded(): number {
        return this.volume ? this.volume.totalSteps : 0
    }

    // ---- power-loss snapshot ----------------------------------------------------------------

    /** What must survive a power cut (see src/core/persist/powerSafety.ts). */
    snapshot(): PumpSnapshot {
        return {
            state: this.sm.current,
            interrupted: this.sm.beforeAlarm,
            program: this.program,
            steps: this.volume ? this.volume.totalSteps : 0,
            bolusSteps: this.volume ? this.volume.bolusSteps : 0,
            alarmCode: this.alarmCode,
            outOfServiceReason: this.outOfServiceReason,
        }
    }

    /** Power-up restore. Program and volume come back; a delivering state comes back Paused
     *  (the state machine never restores a delivering state) and an interrupted infusion raises
     *  POWER_RESTORED, so delivery needs an alarm reset and an explicit resume.
     *  uncountedUl: what may have run after the last save (REQ-PWR-006): counted as given, so the
     *  remaining VTBI shrinks and any error is an under-infusion, never a repeat. */
    restoreSnapshot(nowMs: number, snap: PumpSnapshot, uncountedUl: number): CommandResult {
        if (this.sm.current !== "Idle" || this.program) return this.reject(nowMs, "restore", "only allowed at power-up")
        const st = snap.state
        const steps = snap.steps
        const bolusSteps = snap.bolusSteps
        const prog = snap.program
        const target = st === "Alarm" ? snap.interrupted : st
        let savedUl = 0
        if (prog) {
            const mech = this.config.mechanics
            const syringe = findSyringe(prog.syringeId)
            const v = validateProgram(prog, syringe, mech)
            if (!v.ok) return this.reject(nowMs, "restore", "stored program invalid: " + v.errors.join("; "))
            const travel = fullTravelMicrosteps(syringe, mech)
            // 0 <= bolusSteps <= steps <= travel (steps < 0 fails one of the bolus bounds).
            if (!isWholeNumber(steps) || !isWholeNumber(bolusSteps) || steps > travel || bolusSteps < 0 || bolusSteps > steps)
                return this.reject(nowMs, "restore", "stored step count out of range: " + steps + "/" + bolusSteps)
            savedUl = floorDiv(steps * this.install(prog, syringe), PL_PER_UL)
            // Worst case counted as given, up to the VTBI (past it, in KVO, up to the syringe's
            // travel); a bolus cut short counts its part as bolus too.
            const add = Math.min(Math.ceil((uncountedUl * PL_PER_UL) / this.plPerMicrostep), (steps >= this.vtbiSteps ? travel : this.vtbiSteps) - steps)
            this.volume.totalSteps = steps + add
            this.volume.bolusSteps = bolusSteps + (st === "Bolus" ? add : 0)
        } else if (target !== "Idle" && target !== "OutOfService") {
            return this.reject(nowMs, "restore", "state " + st + " stored without a program")
        }
        this.sm.restore(target)
        if (target === "OutOfService") this.outOfServiceReason = snap.outOfServiceReason
        this.log.record(nowMs, "STATE", "Idle->" + this.sm.current + " (restore)")
        const counted = this.infusedUlNow()
        const what = "was " + st + (snap.alarmCode.length > 0 ? " alarm=" + snap.alarmCode : "") + " infused=" + counted + "uL = saved " + savedUl + " + " + (counted - savedUl) + "uL unsaved bound counted as given (true volume between saved and infused) steps=" + steps
        // Interrupted (alarm, paused or delivering): POWER_RESTORED is raised, else only logged.
        if (st === "Alarm" || st === "Paused" || isDelivering(st)) this.raiseAlarm(nowMs, "POWER_RESTORED", what)
        else this.log.record(nowMs, "POWER_RESTORED", what)
        return OK
    }

    // ---- internals ------------------------------------------------------------------------

    private install(p: InfusionProgram, syringe: SyringeSpec): number {
        const plPerMicrostep = picolitresPerMicrostep(syringe, this.config.mechanics)
        this.program = p
        this.syringe = syringe
        this.plPerMicrostep = plPerMicrostep
        const plannerCfg: PlannerConfig = {
            picolitresPerMicrostep: plPerMicrostep,
            accelStepsPerS2: this.config.accelStepsPerS2,
            maxTickMs: this.config.tickMs * 3,
        }
        this.planner = new StepPlanner(plannerCfg)
        this.volume = new VolumeAccount(plPerMicrostep)
        this.vtbiSteps = this.volume.stepsFor(p.vtbiUl)
        return plPerMicrostep
    }

    private forgetLoadingAndDrug() {
        this.loadingUl = 0
        this.loadingDurationS = 0
        this.loadingTargetSteps = 0
        this.loadingSteps = 0
        this.concentration = null
        this.doseWindows = null
        this.bolusLockoutMs = 0
        this.lastBolusStartMs = -1
    }

    private simple(nowMs: number, event: PumpEvent): CommandResult {
        const no = this.refused(nowMs, event)
        if (no) return no
        this.transition(nowMs, event)
        return OK
    }

    /** The state machine's refusal of `event` now (logged as CMD_REJECTED), or null when the
     *  event is allowed: one copy of the gate every command starts with. */
    private refused(nowMs: number, event: PumpEvent): CommandResult {
        const gate = this.sm.check(event)
        return gate.ok ? null : this.reject(nowMs, event, gate.reason)
    }

    private transition(nowMs: number, event: PumpEvent) {
        const from = this.sm.current
        const r = this.sm.apply(event)
        if (!isDelivering(r.to) && this.planner) this.planner.reset()
        this.log.record(nowMs, "STATE", from + "->" + r.to + " (" + event + ")")
    }

    private reject(nowMs: number, what: string, reason: string): CommandResult {
        this.log.record(nowMs, "CMD_REJECTED", what + ": " + reason)
        return { ok: false, reason: reason }
    }
}

/** Loading rate in µL/h, rounded up so the loading dose finishes within its duration. */
export function loadingRateUlPerH(ul: number, durationS: number): number {
    return Math.ceil((ul * 3600) / durationS)
}

/** Copy of `p` with other rates and bolus (explicit copy: no object spread on the device). */
function programWith(p: InfusionProgram, rateUlPerH: number, kvoRateUlPerH: number, bolusUl: number, bolusDurationS: number): InfusionProgram {
    return { syringeId: p.syringeId, rateUlPerH: rateUlPerH, vtbiUl: p.vtbiUl, kvoRateUlPerH: kvoRateUlPerH, bolusUl: bolusUl, bolusDurationS: bolusDurationS }
}
