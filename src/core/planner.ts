// Step planner: a phase accumulator (DDA) that turns a volumetric rate into whole microsteps per
// control tick. The accumulator integrates rate × elapsed time exactly in integers, so after any
// number of ticks the steps issued equal floor(volume owed / volume per step): zero long-run
// drift at every rate, and tick jitter changes only when a step lands, never how many.
//
// Accumulator unit: (µL/h)·ms × 10. One µL is 3.6e7 units; one microstep of P pL is 36·P units.

import { floorDiv } from "./units"

export interface PlannerConfig {
    picolitresPerMicrostep: number
    /** Largest allowed increase of steps-per-tick from one tick to the next (acceleration limit). */
    maxStepIncreasePerTick: number
    /** Longest elapsed time one tick may account for; a longer gap is a loop overrun. */
    maxTickMs: number
}

export interface PlanResult {
    steps: number
    /** Time beyond maxTickMs that was not integrated (0 when the loop kept its budget). */
    overrunMs: number
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class StepPlanner {
    readonly unitsPerStep: number
    private accumulator = 0
    private lastSteps = 0
    private readonly cfg: PlannerConfig

    constructor(cfg: PlannerConfig) {
        this.cfg = cfg
        this.unitsPerStep = cfg.picolitresPerMicrostep * 36
    }

    /** Acceleration limit derived from a drive's acceleration (µsteps/s²) and the tick length. */
    static stepIncreaseFor(accelStepsPerS2: number, tickMs: number): number {
        return Math.max(1, Math.floor((accelStepsPerS2 * tickMs * tickMs) / 1000000))
    }

    /** Steps to fire in this tick for `rateUlPerH` held over `elapsedMs`.
     *  `limitSteps` caps the result (steps left to a volume target); the excess stays owed. */
    plan(rateUlPerH: number, elapsedMs: number, limitSteps: number): PlanResult {
        let dt = elapsedMs > 0 ? elapsedMs : 0
        let overrunMs = 0
        if (dt > this.cfg.maxTickMs) {
            // Never make up a stalled loop with a burst: that would be an unprogrammed bolus.
            overrunMs = dt - this.cfg.maxTickMs
            dt = this.cfg.maxTickMs
        }
        this.accumulator += rateUlPerH * dt * 10
        let steps = floorDiv(this.accumulator, this.unitsPerStep)
        const ceiling = this.lastSteps + this.cfg.maxStepIncreasePerTick
        if (steps > ceiling) steps = ceiling
        if (steps > limitSteps) steps = limitSteps
        if (steps < 0) steps = 0
        this.accumulator -= steps * this.unitsPerStep
        this.lastSteps = steps
        return { steps: steps, overrunMs: overrunMs }
    }

    /** Volume owed but not yet stepped, in accumulator units (for tests and diagnostics). */
    owedUnits(): number {
        return this.accumulator
    }

    /** Drop any owed fraction and restart the ramp: used on stop, pause and alarm. */
    reset() {
        this.accumulator = 0
        this.lastSteps = 0
    }
}
