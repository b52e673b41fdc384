// Pump controller: the one place that combines program, state machine, step planner and volume
// accounting. It owns no clock and no hardware: the control loop passes `nowMs` in and fires
// the steps it returns, so the same object runs on the device, in the simulator and in vitest.

import { EventSink } from "./eventLog"
import { AlarmCode } from "./safety/alarmCodes"
import { bolusRateUlPerH, InfusionProgram, validateProgram } from "./program"
import { PlannerConfig, StepPlanner } from "./planner"
import { isDelivering, PumpEvent, PumpState, PumpStateMachine } from "./stateMachine"
import { findSyringe, fullTravelMicrosteps, Mechanics, picolitresPerMicrostep, REFERENCE_MECHANICS, SyringeSpec, validateMechanics } from "./syringe"
import { isWholeNumber } from "./units"
import { VolumeAccount } from "./volume"

export interface PumpConfig {
    mechanics: Mechanics
    tickMs: number
    /** Drive acceleration limit in µsteps/s². */
    accelStepsPerS2: number
}

/** The control period: one tick every 20 ms (50 Hz), on the device, in the VM and on the host. */
export const CONTROL_PERIOD_MS = 20
/** Reference drive acceleration (µsteps/s²); at a 20 ms period that is +8 steps per tick. */
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
    infusedUl: number
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
    private outOfServiceReason = ""
    private currentRateUlPerH = 0

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
        const v = validateProgram(p, syringe)
        if (!v.ok) return this.reject(nowMs, "program", v.errors.join("; "))
        const plPerMicrostep = this.install(p, syringe)
        this.log.record(
            nowMs,
            "PROGRAM",
            "syringe=" + p.syringeId + " rate=" + p.rateUlPerH + "uL/h vtbi=" + p.vtbiUl + "uL kvo=" + p.kvoRateUlPerH +
                "uL/h bolus=" + p.bolusUl + "uL/" + p.bolusDurationS + "s pL/step=" + plPerMicrostep
        )
        this.transition(nowMs, "program")
        return OK
    }

    start(nowMs: number): CommandResult {
        return this.simple(nowMs, "start")
    }

    pause(nowMs: number): CommandResult {
        return this.simple(nowMs, "pause")
    }

    resume(nowMs: number): CommandResult {
        return this.simple(nowMs, "resume")
    }

    stop(nowMs: number): CommandResult {
        return this.simple(nowMs, "stop")
    }

    clear(nowMs: number): CommandResult {
        const r = this.simple(nowMs, "clear")
        if (r.ok) this.program = null
        return r
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
        const v = validateProgram(next, this.syringe)
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
        this.bolusTargetSteps = this.volume.bolusStepCount() + this.volume.stepsFor(this.program.bolusUl)
        return this.simple(nowMs, "bolus")
    }

    /** Stops delivery at once and latches `code` until `resetAlarm`. */
    raiseAlarm(nowMs: number, code: AlarmCode, detail: string): CommandResult {
        const gate = this.sm.check("alarm")
        if (!gate.ok) {
            // Already alarming or out of service: delivery is stopped; keep the record.
            this.log.record(nowMs, "ALARM_EXTRA", code + " " + detail + " (state " + this.sm.state() + ")")
            return { ok: false, reason: gate.reason }
        }
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
        if (s === "KVO") limit = this.kvoStepLimit()
        const plan = this.planner.plan(rateUlPerH, elapsedMs, limit)
        if (plan.overrunMs > 0) this.log.record(nowMs, "LOOP_OVERRUN", "late by " + plan.overrunMs + "ms; time not made up")
        this.volume.add(plan.steps, s === "Bolus")
        this.afterSteps(nowMs, s)
        return { steps: plan.steps, forward: true, motorEnabled: true }
    }

    status(): PumpStatus {
        const infused = this.volume ? this.volume.infusedUl() : 0
        const vtbi = this.program ? this.program.vtbiUl : 0
        return {
            state: this.sm.state(),
            rateUlPerH: this.currentRateUlPerH,
            infusedUl: infused,
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
     *  POWER_RESTORED, so delivery needs an alarm reset and an explicit resume. */
    restoreSnapshot(nowMs: number, snap: PumpSnapshot): CommandResult {
        if (this.sm.state() !== "Idle" || this.program) return this.reject(nowMs, "restore", "only allowed at power-up")
        const target = snap.state === "Alarm" ? snap.interrupted : snap.state
        if (snap.program) {
            const syringe = findSyringe(snap.program.syringeId)
            const v = validateProgram(snap.program, syringe)
            if (!v.ok) return this.reject(nowMs, "restore", "stored program invalid: " + v.errors.join("; "))
            const travel = fullTravelMicrosteps(syringe, this.config.mechanics)
            if (!isWholeNumber(snap.steps) || !isWholeNumber(snap.bolusSteps) || snap.steps < 0 || snap.steps > travel || snap.bolusSteps < 0 || snap.bolusSteps > snap.steps)
                return this.reject(nowMs, "restore", "stored step count out of range: " + snap.steps + "/" + snap.bolusSteps)
            this.install(snap.program, syringe)
            this.volume.restore(snap.steps, snap.bolusSteps)
        } else if (target !== "Idle" && target !== "OutOfService") {
            return this.reject(nowMs, "restore", "state " + snap.state + " stored without a program")
        }
        this.sm.restore(target)
        if (target === "OutOfService") this.outOfServiceReason = snap.outOfServiceReason
        this.log.record(nowMs, "STATE", "Idle->" + this.sm.state() + " (restore)")
        const interrupted = snap.state === "Alarm" || snap.state === "Paused" || isDelivering(snap.state)
        const what = "was " + snap.state + (snap.alarmCode.length > 0 ? " alarm=" + snap.alarmCode : "") + " infused=" + this.status().infusedUl + "uL steps=" + snap.steps
        if (interrupted) this.raiseAlarm(nowMs, "POWER_RESTORED", what)
        else this.log.record(nowMs, "POWER_RESTORED", what)
        return OK
    }

    // ---- internals ------------------------------------------------------------------------

    private install(p: InfusionProgram, syringe: SyringeSpec): number {
        const plPerMicrostep = picolitresPerMicrostep(syringe, this.config.mechanics)
        this.program = p
        this.syringe = syringe
        const plannerCfg: PlannerConfig = {
            picolitresPerMicrostep: plPerMicrostep,
            maxStepIncreasePerTick: StepPlanner.stepIncreaseFor(this.config.accelStepsPerS2, this.config.tickMs),
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
        return this.program.rateUlPerH
    }

    /** KVO runs until the syringe's travel is used up; the empty alarm is the detector's job. */
    private kvoStepLimit(): number {
        return fullTravelMicrosteps(this.syringe, this.config.mechanics) - this.volume.steps()
    }

    private afterSteps(nowMs: number, s: PumpState) {
        const vtbiReached = this.volume.steps() >= this.vtbiSteps
        if ((s === "Running" || s === "Bolus") && vtbiReached) {
            this.log.record(nowMs, "VTBI_DONE", "infused=" + this.volume.infusedUl() + "uL")
            this.planner.reset()
            this.transition(nowMs, this.program.kvoRateUlPerH > 0 ? "vtbiDoneKvo" : "vtbiDone")
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
