// Occlusion back-off: after an occlusion alarm the plunger reverses, a few steps a tick, until
// the line pressure is back near its level before the run, so the bolus stored in the line's
// compliance is not pushed into the patient when the occlusion releases. Bounded by a step cap
// (3x the volume the compliance stores plus drive wind-up) and a time cap.

import { EventSink } from "../../eventLog"
import { CONTROL_PERIOD_MS } from "../../pump"

export interface BackoffConfig {
    /** Reverse speed (µsteps/s); each control period fires its share, so the speed does not
     *  depend on CONTROL_PERIOD_MS. */
    backoffStepsPerS: number
    backoffMarginMmHg: number
    backoffMaxMs: number
}

/** Drive-train wind-up allowed on top of the compliance volume (µL). */
const WINDUP_UL = 200

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class OcclusionBackoff {
    /** A back-off is running (read directly by the monitor). */
    active = false
    // The figures of the running back-off: unset until start() sets them all (tick() reads
    // them only while active, which start() turns on).
    private startMs: number
    private doneSteps: number
    private capSteps: number
    private targetMmHg: number
    /** Steps that relieve 1 mmHg of the line (compliance / step volume). */
    private stepsPerMmHg: number
    /** The last two valid pressure readings (mmHg), written by the monitor every tick with a
     *  valid reading; their mean decides whether the line is relieved: 200 ms at the 100 ms
     *  period (it was 5 samples = 100 ms at 20 ms; a count, so revisit it with the period).
     *  Unset before two readings: the mean is NaN, read as relieved (a back-off starts only
     *  after seconds of valid readings). */
    lastMmHg: number
    prevMmHg: number

    isActive(): boolean {
        return this.active
    }

    start(nowMs: number, pMmHg: number, restMmHg: number, complianceUlPerMmHg: number, plPerStep: number, cfg: BackoffConfig, log: EventSink) {
        const target = restMmHg + cfg.backoffMarginMmHg
        const excess = pMmHg > target ? pMmHg - target : 0
        const capUl = 3 * complianceUlPerMmHg * excess + WINDUP_UL
        this.active = true
        this.startMs = nowMs
        this.doneSteps = 0
        this.targetMmHg = target
        this.stepsPerMmHg = (complianceUlPerMmHg * 1000000) / plPerStep
        this.capSteps = plPerStep > 0 ? Math.ceil((capUl * 1000000) / plPerStep) : 0
        log.record(nowMs, "BACKOFF_START", "p=" + Math.round(pMmHg) + "mmHg target=" + Math.round(target) + "mmHg cap=" + this.capSteps + " steps")
    }

    /** Reverse microsteps for this tick; ends the back-off when relieved, capped, or when
     *  `mustStop` (a drive or sensor alarm makes further movement unsafe). */
    tick(nowMs: number, mustStop: boolean, plPerStep: number, cfg: BackoffConfig, log: EventSink): number {
        if (!this.active) return 0
        const p = (this.lastMmHg + this.prevMmHg) / 2
        let why = ""
        if (!(p > this.targetMmHg)) why = "pressure relieved"
        else if (this.doneSteps >= this.capSteps) why = "step cap reached"
        else if (nowMs - this.startMs >= cfg.backoffMaxMs) why = "time cap reached"
        else if (mustStop) why = "drive or sensor alarm"
        if (why.length > 0) {
            this.active = false
            const ul = Math.round((this.doneSteps * plPerStep) / 1000000)
            log.record(nowMs, "BACKOFF_END", why + ": " + this.doneSteps + " steps (" + ul + "uL withdrawn, still counted as infused) p=" + Math.round(p) + "mmHg")
            return 0
        }
        let n = Math.floor((cfg.backoffStepsPerS * CONTROL_PERIOD_MS) / 1000)
        // Near the target a tick withdraws no more than the line's excess volume (C x excess),
        // but at least a fifth of a period's share: the overshoot past the target (suction, then a
        // "rise" the suspect detector took for a new occlusion) does not grow with the period.
        const relief = Math.ceil((p - this.targetMmHg) * this.stepsPerMmHg)
        if (relief < n) n = Math.max(relief, Math.ceil(n / 5))
        if (this.doneSteps + n > this.capSteps) n = this.capSteps - this.doneSteps
        this.doneSteps += n
        return n
    }
}
