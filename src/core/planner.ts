// Step planner: a phase accumulator (DDA) that turns a volumetric rate into whole microsteps per
// control tick. The accumulator integrates rate × elapsed time exactly in integers, so after any
// number of ticks the steps issued equal floor(volume owed / volume per step): zero long-run
// drift at every rate, and tick jitter changes only when a step lands, never how many.
//
// Accumulator unit: (µL/h)·ms × 10. One µL is 3.6e7 units; one microstep of P pL is 36·P units.

import { floorDiv } from "./units"

export interface PlannerConfig {
    picolitresPerMicrostep: number
    /** Drive acceleration limit in µsteps/s², applied per millisecond of elapsed time (not per
     *  tick), so a long tick after a short one may step proportionally more. */
    accelStepsPerS2: number
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
    /** Velocity the drive may carry into the next tick, µsteps/s × 1000 (integer). */
    private speedCapMilli = 0
    /** The rate last planned and its speed in µsteps/s × 1000 (the speed cap's ceiling). */
    private rateFor: number
    private rateMilli: number
    private readonly cfg: PlannerConfig

    constructor(cfg: PlannerConfig) {
        this.cfg = cfg
        this.unitsPerStep = cfg.picolitresPerMicrostep * 36
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
        // Acceleration limit in time, not ticks: the speed allowed this tick is the speed carried
        // in plus accel × dt, and the tick may step at most that speed × dt. (µsteps/s² · ms is
        // µsteps/s × 1000; µsteps/s × 1000 · ms / 1e6 is µsteps.)
        const allowedMilli = this.speedCapMilli + this.cfg.accelStepsPerS2 * dt
        const ceiling = Math.floor((allowedMilli * dt) / 1000000)
        if (steps > ceiling) steps = ceiling
        if (steps > limitSteps) steps = limitSteps
        if (steps < 0) steps = 0
        this.accumulator -= steps * this.unitsPerStep
        // Never carry more than the programmed speed: a later rate rise ramps again from there,
        // while the accel × dt margin above it lets a ramp's backlog be caught up.
        // µsteps/s × 1000 of the rate (1 µL = 1e6 pL, 1 h = 3600 s).
        // Recomputed only when the rate changes (rateFor starts unset: differs from any rate).
        if (rateUlPerH !== this.rateFor) {
            this.rateFor = rateUlPerH
            this.rateMilli = Math.floor(((rateUlPerH > 0 ? rateUlPerH : 0) * 1000000000) / (3600 * this.cfg.picolitresPerMicrostep))
        }
        const rateMilli = this.rateMilli
        this.speedCapMilli = allowedMilli < rateMilli ? allowedMilli : rateMilli
        return { steps: steps, overrunMs: overrunMs }
    }

    /** Volume owed but not yet stepped, in accumulator units (for tests and diagnostics). */
    owedUnits(): number {
        return this.accumulator
    }

    /** Drop any owed fraction and restart the ramp: used on stop, pause and alarm. */
    reset() {
        this.accumulator = 0
        this.speedCapMilli = 0
    }
}
