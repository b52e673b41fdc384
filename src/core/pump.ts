// Pump controller: the one place that combines program, state machine, step planner and volume
// accounting. It owns no clock and no hardware: the control loop passes `nowMs` in and fires
// the steps it returns, so the same object runs on the device, in the simulator and in vitest.

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
    private readonly sm = new PumpStateMachine()
    private program: InfusionProgram = null
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
    private currentRateUlPerH = 0
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
    private standbyUntilMs = -1
    private standbyAutoStart = false

    constructor(config: PumpConfig, log: EventSink) {
        const errors = validateMechanics(config.mechanics)
        if (errors.length > 0) throw new Error("invalid mechanics: " + errors.join("; "))
        this.config = config
        this.log = log
    }

    state(): PumpState {
        return this.sm.state()
    }

    // ---- commands -------------------------------------------------------------------------

    loadProgram(nowMs: number, p: InfusionProgram): CommandResult {
        const gate = this.sm.check("program")
        if (!gate.ok) return this.reject(nowMs, "program", gate.reason)
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
        if (this.sm.state() !== "Programmed" || !this.program) return this.reject(nowMs, "loading", "a loading dose can only be set in Programmed, not " + this.sm.state())
        if (this.volume.steps() > 0) return this.reject(nowMs, "loading", "this infusion has already started")
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
        const st = this.sm.state()
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
            this.doseWindows.add(this.volume.steps())
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
        const gate = this.sm.check("standby")
        if (!gate.ok) return this.reject(nowMs, "standby", gate.reason)
        if (!isWholeNumber(untilMs) || untilMs <= nowMs || untilMs - nowMs > 24 * 3600000)
            return this.reject(nowMs, "standby", "start time must be a whole ms after now and at most 24 h ahead")
        this.standbyUntilMs = untilMs
        this.standbyAutoStart = autoStart
        this.log.record(nowMs, "STANDBY", (autoStart ? "start at " : "remind at ") + untilMs + "ms (in " + Math.ceil((untilMs - nowMs) / 1000) + " s)")
        this.transition(nowMs, "standby")
        return OK
    }

    /** True in Standby once its time has come without a start (the reminder is due). */
    standbyOverdue(nowMs: number): boolean {
        return this.sm.state() === "Standby" && nowMs >= this.standbyUntilMs
    }

    /** PCA lockout: a bolus is refused until `lockoutMs` after the start of the previous one.
     *  @devsWhenUsed (compiled into an image only if it calls this) */
    setBolusLockout(nowMs: number, lockoutMs: number): CommandResult {
        if (!this.program) return this.reject(nowMs, "lockout", "no program is loaded")
        if (!isWholeNumber(lockoutMs) || lockoutMs < 0 || lockoutMs > 24 * 3600000) return this.reject(nowMs, "lockout", "lockout must be 0..86400000 ms")
        this.bolusLockoutMs = lockoutMs
        // REQ-PWR-006: a bolus with no start time kept (given before a power cut) counts as started now.
        if (this.lastBolusStartMs < 0 && this.volume.bolusStepCount() > 0) this.lastBolusStartMs = nowMs
        this.log.record(nowMs, "DOSE_LIMIT_SET", "bolus lockout=" + lockoutMs + "ms")
        return OK
    }

    /** Steps the dose windows still allow now; -1 without a limit. */
    private doseAllowance(nowMs: number): number {
        if (!this.doseWindows) return -1
        this.doseWindows.advance(nowMs)
        return this.doseWindows.allowance()
    }

    /** Reason a delivery of `steps` more steps would cross a dose window now, or "". */
    private doseWindowProblem(nowMs: number, what: string, steps: number): string {
        const a = this.doseAllowance(nowMs)
        if (a < 0 || steps <= a) return ""
        const k = this.doseWindows.tightest()
        const l = this.doseWindows.limit(k)
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
        const gate = this.sm.check("titrate")
        if (!gate.ok) return this.reject(nowMs, "titrate", gate.reason)
        const p = this.program
        const next: InfusionProgram = {
            syringeId: p.syringeId,
            rateUlPerH: rateUlPerH,
            vtbiUl: p.vtbiUl,
            // KVO may not exceed the primary rate; a lower one is stated in the TITRATE record.
            kvoRateUlPerH: p.kvoRateUlPerH <= rateUlPerH ? p.kvoRateUlPerH : rateUlPerH,
            bolusUl: p.bolusUl,
            bolusDurationS: p.bolusDurationS,
        }
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
        const gate = this.sm.check("bolus")
        if (!gate.ok) return this.reject(nowMs, "bolus", gate.reason)
        if (bolusUl !== undefined) {
            const p = this.program
            const next: InfusionProgram = {
                syringeId: p.syringeId,
                rateUlPerH: p.rateUlPerH,
                vtbiUl: p.vtbiUl,
                kvoRateUlPerH: p.kvoRateUlPerH,
                bolusUl: bolusUl,
                bolusDurationS: bolusDurationS,
            }
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
        this.bolusTargetSteps = this.volume.bolusStepCount() + bolusSteps
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
            const text = code + " " + detail + " (state " + this.sm.state() + ")"
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
        const gate = this.sm.check("outOfService")
        if (!gate.ok) return this.reject(nowMs, "outOfService", gate.reason)
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
        if (this.standbyAutoStart && nowMs >= this.standbyUntilMs && this.sm.state() === "Standby") {
            // Delayed start: no step in this tick (the monitor checked a non-delivering state).
            this.standbyAutoStart = false
            this.start(nowMs)
            this.currentRateUlPerH = 0
            return { steps: 0, forward: true, motorEnabled: false }
        }
        const s = this.sm.state()
        if (!isDelivering(s)) {
            this.currentRateUlPerH = 0
            if (this.planner) this.planner.reset()
            return { steps: 0, forward: true, motorEnabled: false }
        }
        if (elapsedMs < 0) this.log.record(nowMs, "CLOCK_BACKWARDS", "elapsed=" + elapsedMs + "ms; tick skipped")
        const rateUlPerH = this.rateFor(s)
        this.currentRateUlPerH = rateUlPerH
        let limit = this.vtbiSteps - this.volume.steps()
        if (s === "Bolus") {
            const bolusLeft = this.bolusTargetSteps - this.volume.bolusStepCount()
            if (bolusLeft < limit) limit = bolusLeft
        }
        if (s === "Loading") {
            const loadingLeft = this.loadingTargetSteps - this.loadingSteps
            if (loadingLeft < limit) limit = loadingLeft
        }
        if (s === "KVO") limit = this.kvoStepLimit()
        // Dose windows cap the tick BEFORE planning: a step that would cross a limit is never fired.
        const allowance = this.doseAllowance(nowMs)
        if (allowance >= 0 && allowance < limit) limit = allowance
        const plan = this.planner.plan(rateUlPerH, elapsedMs, limit)
        if (plan.overrunMs > 0) this.log.record(nowMs, "LOOP_OVERRUN", "late by " + plan.overrunMs + "ms; time not made up")
        this.volume.add(plan.steps, s === "Bolus")
        if (s === "Loading") this.loadingSteps += plan.steps
        if (this.doseWindows) {
            this.doseWindows.add(plan.steps)
            if (this.doseWindows.allowance() === 0) {
                const l = this.doseWindows.limit(this.doseWindows.tightest())
                this.raiseAlarm(nowMs, "DOSE_LIMIT", "maximum " + l.maxSteps + " steps in " + l.windowMin + " min reached")
                return { steps: plan.steps, forward: true, motorEnabled: true }
            }
        }
        this.afterSteps(nowMs, s)
        return { steps: plan.steps, forward: true, motorEnabled: true }
    }

    status(): PumpStatus {
        const infused = this.volume ? this.volume.infusedUl() : 0
        const vtbi = this.program ? this.program.vtbiUl : 0
        const steps = this.volume ? this.volume.steps() : 0
        return {
            state: this.sm.state(),
            rateUlPerH: this.currentRateUlPerH,
            infusedUl: infused,
            infusedNl: this.volume ? this.volume.infusedNl() : 0,
            infusedDisplayUl: this.volume ? this.volume.displayUl() : 0,
            doseGivenThousandths: this.concentration ? this.concentration.givenThousandths(steps, this.plPerMicrostep) : -1,
            doseAmountUnit: this.concentration ? this.concentration.amountUnit : -1,
            loadingUl: this.loadingUl,
            loadingGivenUl: floorDiv(this.loadingSteps * this.plPerMicrostep, PL_PER_UL),
            standbyUntilMs: this.sm.state() === "Standby" ? this.standbyUntilMs : -1,
            standbyAutoStart: this.sm.state() === "Standby" && this.standbyAutoStart,
            bolusUl: this.volume ? this.volume.bolusUl() : 0,
            vtbiUl: vtbi,
            remainingUl: vtbi > infused ? vtbi - infused : 0,
            alarmCode: this.alarmCode,
            program: this.program,
        }
    }

    // Per-tick readers (the safety monitor) use these instead of status(), which builds an object.
    loadedProgram(): InfusionProgram {
        return this.program
    }

    rateNowUlPerH(): number {
        return this.currentRateUlPerH
    }

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
        return this.volume ? this.volume.steps() : 0
    }

    // ---- power-loss snapshot ----------------------------------------------------------------

    /** What must survive a power cut (see src/core/persist/powerSafety.ts). */
    snapshot(): PumpSnapshot {
        return {
            state: this.sm.state(),
            interrupted: this.sm.interruptedState(),
            program: this.program,
            steps: this.volume ? this.volume.steps() : 0,
            bolusSteps: this.volume ? this.volume.bolusStepCount() : 0,
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
        if (this.sm.state() !== "Idle" || this.program) return this.reject(nowMs, "restore", "only allowed at power-up")
        const target = snap.state === "Alarm" ? snap.interrupted : snap.state
        let savedUl = 0
        if (snap.program) {
            const syringe = findSyringe(snap.program.syringeId)
            const v = validateProgram(snap.program, syringe, this.config.mechanics)
            if (!v.ok) return this.reject(nowMs, "restore", "stored program invalid: " + v.errors.join("; "))
            const travel = fullTravelMicrosteps(syringe, this.config.mechanics)
            if (!isWholeNumber(snap.steps) || !isWholeNumber(snap.bolusSteps) || snap.steps < 0 || snap.steps > travel || snap.bolusSteps < 0 || snap.bolusSteps > snap.steps)
                return this.reject(nowMs, "restore", "stored step count out of range: " + snap.steps + "/" + snap.bolusSteps)
            savedUl = floorDiv(snap.steps * this.install(snap.program, syringe), PL_PER_UL)
            // Worst case counted as given, up to the VTBI (past it, in KVO, up to the syringe's
            // travel); a bolus cut short counts its part as bolus too.
            const add = Math.min(Math.ceil((uncountedUl * PL_PER_UL) / this.plPerMicrostep), (snap.steps >= this.vtbiSteps ? travel : this.vtbiSteps) - snap.steps)
            this.volume.restore(snap.steps + add, snap.bolusSteps + (snap.state === "Bolus" ? add : 0))
        } else if (target !== "Idle" && target !== "OutOfService") {
            return this.reject(nowMs, "restore", "state " + snap.state + " stored without a program")
        }
        this.sm.restore(target)
        if (target === "OutOfService") this.outOfServiceReason = snap.outOfServiceReason
        this.log.record(nowMs, "STATE", "Idle->" + this.sm.state() + " (restore)")
        const interrupted = snap.state === "Alarm" || snap.state === "Paused" || isDelivering(snap.state)
        const counted = this.status().infusedUl
        const what = "was " + snap.state + (snap.alarmCode.length > 0 ? " alarm=" + snap.alarmCode : "") + " infused=" + counted + "uL = saved " + savedUl + " + " + (counted - savedUl) + "uL unsaved bound counted as given (true volume between saved and infused) steps=" + snap.steps
        if (interrupted) this.raiseAlarm(nowMs, "POWER_RESTORED", what)
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

    private rateFor(s: PumpState): number {
        if (s === "Bolus") return bolusRateUlPerH(this.program)
        if (s === "KVO") return this.program.kvoRateUlPerH
        if (s === "Loading") return loadingRateUlPerH(this.loadingUl, this.loadingDurationS)
        return this.program.rateUlPerH
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

    /** KVO runs until the syringe's travel is used up; the empty alarm is the detector's job. */
    private kvoStepLimit(): number {
        return fullTravelMicrosteps(this.syringe, this.config.mechanics) - this.volume.steps()
    }

    private afterSteps(nowMs: number, s: PumpState) {
        const vtbiReached = this.volume.steps() >= this.vtbiSteps
        if ((s === "Running" || s === "Bolus" || s === "Loading") && vtbiReached) {
            this.log.record(nowMs, "VTBI_DONE", "infused=" + this.volume.infusedUl() + "uL")
            this.planner.reset()
            this.transition(nowMs, this.program.kvoRateUlPerH > 0 ? "vtbiDoneKvo" : "vtbiDone")
            return
        }
        if (s === "Loading" && this.loadingSteps >= this.loadingTargetSteps) {
            this.log.record(nowMs, "LOADING_DONE", "loading=" + floorDiv(this.loadingSteps * this.plPerMicrostep, PL_PER_UL) + "uL steps=" + this.loadingSteps)
            this.planner.reset()
            this.transition(nowMs, "loadingDone")
            return
        }
        if (s === "Bolus" && this.volume.bolusStepCount() >= this.bolusTargetSteps) {
            this.log.record(nowMs, "BOLUS_DONE", "bolus=" + this.volume.bolusUl() + "uL")
            this.planner.reset()
            this.transition(nowMs, "bolusDone")
        }
    }

    private simple(nowMs: number, event: PumpEvent): CommandResult {
        const gate = this.sm.check(event)
        if (!gate.ok) return this.reject(nowMs, event, gate.reason)
        this.transition(nowMs, event)
        return OK
    }

    private transition(nowMs: number, event: PumpEvent) {
        const from = this.sm.state()
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
