// Safety monitor: runs FIRST in every control tick, turns the sensor snapshot into alarm causes,
// and raises a stopping alarm on the pump before the pump plans this tick's steps, so the motor
// never takes another step after a high-priority condition is seen. Every cause is re-evaluated
// every tick from the sensors (nothing is a one-shot flag), so a restart against an uncleared
// cause re-alarms.

import { EventSink } from "../eventLog"
import { PumpController } from "../pump"
import { SensorSnapshot } from "../sensors"
import { isDelivering, PumpState } from "../stateMachine"
import { findSyringe, microstepsPerMm, picolitresPerMicrostep, SyringeSpec } from "../syringe"
import { AIR_DEFAULTS, AirConfig, AirDetector, validateAirConfig } from "./air"
import { findAlarm } from "./alarmCodes"
import { AlarmManager, Annunciation } from "./alarmManager"
import { complianceEstimateFor, OCCLUSION_DEFAULTS, OcclusionConfig, OcclusionDetector, withCompliance } from "./occlusion"

export interface PressureCalibration {
    offsetCounts: number
    countsPerMmHg: number
}

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
    nearEmptyS: number
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
    backoffStepsPerTick: number
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
    nearEmptyS: 300,
    emptyTravelUm: 500,
    pausedMaxMs: 120000,
    batteryLowMv: 3550,
    batteryDepletedMv: 3350,
    batteryMinMv: 2500,
    batteryMaxMv: 4500,
    positionMismatchUm: 200,
    overrunMs: 200,
    watchdogMs: 1000,
    backoffStepsPerTick: 40,
    backoffMarginMmHg: 3,
    backoffMaxMs: 15000,
}

export interface SafetyTick {
    /** Reverse microsteps to fire this tick (occlusion pressure relief), 0 otherwise. */
    reverseSteps: number
}

function isNum(x: number): boolean {
    return typeof x === "number" && !isNaN(x)
}

export class SafetyMonitor {
    /** Start of the current run of garbled sensor snapshots, or -1. */
    private garbledSinceMs = -1
    readonly cfg: SafetyConfig
    readonly alarms: AlarmManager
    readonly occlusion: OcclusionDetector
    readonly air: AirDetector
    private readonly pump: PumpController
    private readonly log: EventSink
    private lastCheckMs = -1
    private overrunUntilMs = -1
    private watchdogSeen = false
    private lastFired = NaN
    private refFired = 0
    private refPosUm = 0
    private refValid = false
    private lastCounts = -1
    private sameSinceMs = 0
    private lowSinceMs = -1
    private pausedSinceMs = -1
    private syringeId = ""
    private syringe: SyringeSpec = null
    private plPerStep = 0
    private umPerStep = 0
    private readonly recentP: number[] = []
    private backoffActive = false
    private backoffStartMs = 0
    private backoffSteps = 0
    private backoffCap = 0
    private backoffTarget = 0
    private mirroredPumpAlarm = ""
    private lastAirInLine = false

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
    }

    /** Runs before `pump.update(nowMs)` in every tick. */
    check(nowMs: number, s: SensorSnapshot): SafetyTick {
        const a = this.alarms
        this.checkTiming(nowMs)
        this.trackSyringe(nowMs)
        const state = this.pump.state()
        const delivering = isDelivering(state)
        this.mirrorPumpAlarm(nowMs, state)
        if (!this.snapshotValid(s)) {
            // Logged once per episode: a record every 20 ms tick would push the whole history
            // (alarms, overrides) out of the ring. The episode's length is logged when it ends.
            if (this.garbledSinceMs < 0) {
                this.garbledSinceMs = nowMs
                this.log.record(nowMs, "SENSOR_GARBLED", "snapshot has a non-numeric field")
            }
            a.setCause(nowMs, "SENSOR_FAULT", true, "garbled snapshot")
            this.enforce(nowMs)
            return { reverseSteps: 0 }
        }
        if (this.garbledSinceMs >= 0) {
            this.log.record(nowMs, "SENSOR_GARBLED_END", "valid snapshots again after " + (nowMs - this.garbledSinceMs) + "ms")
            this.garbledSinceMs = -1
        }
        // ---- volume moved this tick, from the engine's own count
        const dSteps = isNaN(this.lastFired) ? 0 : s.firedSteps - this.lastFired
        this.lastFired = s.firedSteps
        const pumpedUl = (dSteps * this.plPerStep) / 1000000
        // ---- pressure sensor validity, then occlusion
        const pressureOk = this.checkPressureSensor(nowMs, s.pressureAdc)
        const p = (s.pressureAdc - this.cfg.pressureCal.offsetCounts) / this.cfg.pressureCal.countsPerMmHg
        if (pressureOk) {
            this.recentP.push(p)
            if (this.recentP.length > 5) this.recentP.shift()
            const v = this.occlusion.update(nowMs, p, pumpedUl, delivering)
            if (v.alarm && !a.isLatched("OCCL_DOWN")) {
                a.setCause(nowMs, "OCCL_DOWN", true, v.reason)
                this.occlusion.markAlarm()
                this.startBackoff(nowMs, p)
            } else {
                a.setCause(nowMs, "OCCL_DOWN", v.alarm || this.backoffActive, v.reason)
            }
        }
        // ---- air
        const air = this.air.update(nowMs, s.airInLine, pumpedUl)
        // Once latched, air still in the detector keeps the cause: the line must be purged.
        a.setCause(nowMs, "AIR_BUBBLE", air.single || (a.isLatched("AIR_BUBBLE") && s.airInLine), "bubble " + Math.round(air.currentUl) + "uL")
        a.setCause(nowMs, "AIR_CUMULATIVE", air.cumulative || (a.isLatched("AIR_CUMULATIVE") && s.airInLine), Math.round(air.windowTotalUl) + "uL in window")
        this.lastAirInLine = s.airInLine
        // ---- door, plunger: a cause while delivering, and until removed once latched
        a.setCause(nowMs, "DOOR_OPEN", s.doorOpen && (delivering || a.isLatched("DOOR_OPEN")), "")
        a.setCause(nowMs, "SYRINGE_DISENGAGED", !s.plungerEngaged && (delivering || a.isLatched("SYRINGE_DISENGAGED")), "")
        // ---- syringe level from the position sensor
        this.checkSyringeLevel(nowMs, s, delivering)
        // ---- VTBI, paused too long
        a.setCause(nowMs, "VTBI_DONE", state === "KVO" || state === "Complete", "")
        if (state === "Paused") {
            if (this.pausedSinceMs < 0) this.pausedSinceMs = nowMs
        } else this.pausedSinceMs = -1
        a.setCause(nowMs, "PAUSED_LONG", this.pausedSinceMs >= 0 && nowMs - this.pausedSinceMs >= this.cfg.pausedMaxMs, "")
        // ---- battery
        const bOk = s.batteryMv >= this.cfg.batteryMinMv && s.batteryMv <= this.cfg.batteryMaxMv
        a.setCause(nowMs, "BATTERY_LOW", bOk && s.batteryMv < this.cfg.batteryLowMv, s.batteryMv + "mV")
        a.setCause(nowMs, "BATTERY_DEPLETED", bOk && s.batteryMv < this.cfg.batteryDepletedMv, s.batteryMv + "mV")
        if (!bOk && !a.isLatched("SENSOR_FAULT")) this.log.record(nowMs, "SENSOR_RANGE", "battery " + s.batteryMv + "mV")
        a.setCause(nowMs, "SENSOR_FAULT", !pressureOk || !bOk, !pressureOk ? "pressure" : "battery")
        // ---- drive: steps vs position
        this.checkDrive(nowMs, s, delivering)
        // ---- timing
        a.setCause(nowMs, "LOOP_OVERRUN", this.overrunUntilMs >= nowMs, "")
        a.setCause(nowMs, "WATCHDOG", this.watchdogSeen, "")
        this.watchdogSeen = false
        this.enforce(nowMs)
        return { reverseSteps: this.backoffTick(nowMs) }
    }

    /** Operator acknowledge: clears alarms whose cause is gone; leaves Alarm when no stopping
     *  alarm remains (the pump returns to Paused, never to delivering). */
    acknowledge(nowMs: number) {
        // Acknowledging the cumulative-air alarm with no air in the detector is the operator's
        // statement that the line was purged: the rolling sum restarts (logged).
        if (this.alarms.isLatched("AIR_CUMULATIVE") && !this.lastAirInLine) {
            this.air.resetHistory()
            this.log.record(nowMs, "AIR_HISTORY_RESET", "cumulative air acknowledged by operator")
        }
        this.alarms.acknowledge(nowMs)
        this.releaseIfClear(nowMs)
    }

    pauseAudio(nowMs: number): boolean {
        return this.alarms.pauseAudio(nowMs)
    }

    annunciation(nowMs: number): Annunciation {
        return this.alarms.annunciation(nowMs)
    }

    isBackingOff(): boolean {
        return this.backoffActive
    }

    // ---- internals ------------------------------------------------------------------------

    private enforce(nowMs: number) {
        const a = this.alarms
        if (a.deliveryBlocked()) {
            if (this.pump.state() !== "Alarm" && this.pump.state() !== "OutOfService") {
                const codes = a.latchedCodes()
                let code = ""
                for (let i = 0; i < codes.length; i++) {
                    const d = findAlarm(codes[i])
                    if (d.stopsDelivery) {
                        code = d.code
                        break
                    }
                }
                this.pump.raiseAlarm(nowMs, code, "safety monitor")
            }
        } else this.releaseIfClear(nowMs)
    }

    private releaseIfClear(nowMs: number) {
        if (this.pump.state() === "Alarm" && !this.alarms.deliveryBlocked() && !this.backoffActive) {
            // Only after the operator acknowledged: a cleared slot was acknowledged by definition.
            this.mirroredPumpAlarm = ""
            this.pump.resetAlarm(nowMs)
        }
    }

    /** An alarm raised on the pump directly (e.g. DRIVE_FAULT by the control loop) is latched
     *  here too, so it is annunciated and must be acknowledged like any other. */
    private mirrorPumpAlarm(nowMs: number, state: PumpState) {
        if (state !== "Alarm") return
        const code = this.pump.status().alarmCode
        if (code.length === 0 || code === this.mirroredPumpAlarm || this.alarms.isLatched(code)) return
        this.mirroredPumpAlarm = code
        // Unknown codes latch as PUMP_ALARM so the pump never leaves Alarm unacknowledged.
        const latch = findAlarm(code) ? code : "PUMP_ALARM"
        this.alarms.setCause(nowMs, latch, true, "raised by pump: " + code)
        this.alarms.setCause(nowMs, latch, false, "")
    }

    private checkTiming(nowMs: number) {
        if (this.lastCheckMs >= 0) {
            const gap = nowMs - this.lastCheckMs
            if (gap >= this.cfg.watchdogMs) {
                this.watchdogSeen = true
                this.log.record(nowMs, "WATCHDOG", "no control tick for " + gap + "ms")
            } else if (gap > this.cfg.overrunMs) {
                this.overrunUntilMs = nowMs + 10000
                this.log.record(nowMs, "LOOP_LATE", "tick gap " + gap + "ms")
            }
        }
        this.lastCheckMs = nowMs
    }

    private trackSyringe(nowMs: number) {
        const prog = this.pump.status().program
        const id = prog ? prog.syringeId : ""
        if (id === this.syringeId) return
        this.syringeId = id
        this.syringe = id.length > 0 ? findSyringe(id) : null
        this.plPerStep = this.syringe ? picolitresPerMicrostep(this.syringe, this.pump.config.mechanics) : 0
        if (this.syringe && this.cfg.autoCompliance) {
            this.occlusion.cfg = withCompliance(this.cfg.occlusion, complianceEstimateFor(this.syringe.innerDiameterUm))
        }
        this.log.record(nowMs, "SAFETY_SYRINGE", id + " pL/step=" + this.plPerStep + " C=" + this.occlusion.cfg.complianceUlPerMmHg)
    }

    private snapshotValid(s: SensorSnapshot): boolean {
        return s && isNum(s.pressureAdc) && isNum(s.batteryMv) && isNum(s.firedSteps) && isNum(s.plungerPositionUm)
    }

    private checkPressureSensor(nowMs: number, counts: number): boolean {
        const c = this.cfg
        let ok = true
        if (counts < c.adcMinCounts || counts > c.adcMaxCounts) ok = false
        if (counts !== this.lastCounts) {
            this.lastCounts = counts
            this.sameSinceMs = nowMs
        } else if (nowMs - this.sameSinceMs >= c.stuckMs) ok = false
        const p = (counts - c.pressureCal.offsetCounts) / c.pressureCal.countsPerMmHg
        if (p < c.implausibleLowMmHg) {
            if (this.lowSinceMs < 0) this.lowSinceMs = nowMs
            if (nowMs - this.lowSinceMs >= 1000) ok = false
        } else this.lowSinceMs = -1
        if (!ok && !this.alarms.isLatched("SENSOR_FAULT"))
            this.log.record(nowMs, "SENSOR_RANGE", "pressure counts=" + counts + (nowMs - this.sameSinceMs >= c.stuckMs ? " stuck" : ""))
        return ok
    }

    private checkSyringeLevel(nowMs: number, s: SensorSnapshot, delivering: boolean) {
        const a = this.alarms
        if (!this.syringe) {
            a.setCause(nowMs, "NEAR_EMPTY", false, "")
            a.setCause(nowMs, "SYRINGE_EMPTY", false, "")
            return
        }
        const d = this.syringe.innerDiameterUm / 1000
        const ulPerUm = (Math.PI * d * d) / 4 / 1000
        const leftUm = this.syringe.plungerTravelUm - s.plungerPositionUm
        const leftUl = leftUm * ulPerUm
        const rate = this.pump.status().rateUlPerH
        const empty = leftUm <= this.cfg.emptyTravelUm
        a.setCause(nowMs, "SYRINGE_EMPTY", empty && (delivering || a.isLatched("SYRINGE_EMPTY")), Math.round(leftUl) + "uL left")
        const nearS = rate > 0 ? (leftUl * 3600) / rate : 1e9
        a.setCause(nowMs, "NEAR_EMPTY", delivering && !empty && nearS <= this.cfg.nearEmptyS, Math.round(nearS) + "s left")
    }

    private checkDrive(nowMs: number, s: SensorSnapshot, delivering: boolean) {
        const moving = delivering || this.backoffActive
        if (!moving || !this.refValid) {
            this.refFired = s.firedSteps
            this.refPosUm = s.plungerPositionUm
            this.refValid = true
            if (!moving) {
                this.alarms.setCause(nowMs, "DRIVE_MISMATCH", false, "")
                return
            }
        }
        const expected = this.refPosUm + (s.firedSteps - this.refFired) * this.umPerStep
        const err = s.plungerPositionUm - expected
        const bad = err > this.cfg.positionMismatchUm || err < -this.cfg.positionMismatchUm
        this.alarms.setCause(nowMs, "DRIVE_MISMATCH", bad, "position error " + Math.round(err) + "um")
    }

    private startBackoff(nowMs: number, p: number) {
        const target = this.occlusion.backoffTargetMmHg() + this.cfg.backoffMarginMmHg
        const c = this.occlusion.cfg.complianceUlPerMmHg
        const excess = p > target ? p - target : 0
        // Cap: 3× the volume the estimated compliance stores plus the drive-train wind-up.
        const capUl = 3 * c * excess + 200
        this.backoffActive = true
        this.backoffStartMs = nowMs
        this.backoffSteps = 0
        this.backoffTarget = target
        this.backoffCap = this.plPerStep > 0 ? Math.ceil((capUl * 1000000) / this.plPerStep) : 0
        this.log.record(nowMs, "BACKOFF_START", "p=" + Math.round(p) + "mmHg target=" + Math.round(target) + "mmHg cap=" + this.backoffCap + " steps")
    }

    private backoffTick(nowMs: number): number {
        if (!this.backoffActive) return 0
        let sum = 0
        for (let i = 0; i < this.recentP.length; i++) sum += this.recentP[i]
        const p = this.recentP.length > 0 ? sum / this.recentP.length : NaN
        let why = ""
        if (!(p > this.backoffTarget)) why = "pressure relieved"
        else if (this.backoffSteps >= this.backoffCap) why = "step cap reached"
        else if (nowMs - this.backoffStartMs >= this.cfg.backoffMaxMs) why = "time cap reached"
        else if (this.alarms.isLatched("SYRINGE_DISENGAGED") || this.alarms.isLatched("DRIVE_MISMATCH") || this.alarms.isLatched("SENSOR_FAULT"))
            why = "drive or sensor alarm"
        if (why.length > 0) {
            this.backoffActive = false
            const ul = Math.round((this.backoffSteps * this.plPerStep) / 1000000)
            this.log.record(nowMs, "BACKOFF_END", why + ": " + this.backoffSteps + " steps (" + ul + "uL withdrawn, still counted as infused) p=" + Math.round(p) + "mmHg")
            return 0
        }
        let n = this.cfg.backoffStepsPerTick
        if (this.backoffSteps + n > this.backoffCap) n = this.backoffCap - this.backoffSteps
        this.backoffSteps += n
        return n
    }
}
