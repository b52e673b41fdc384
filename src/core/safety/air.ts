// Air-in-line detector. The ultrasonic sensor only says "air in the window now"; the volume of a
// bubble is the volume pumped while air is seen (from the step engine's count), minus the
// window's own volume (a bubble is seen from when its front enters until its tail leaves).
// Alarms: one bubble above the set size (50-250 µL), or more than 1 mL of air in any rolling
// 15 min. Both are checked while the bubble is still passing, so the pump stops before the
// bubble has fully gone by.

export interface AirConfig {
    singleBubbleUl: number
    cumulativeUl: number
    cumulativeWindowMs: number
    /** Sensor window volume (µL), subtracted from each seen segment. */
    windowUl: number
}

export const AIR_DEFAULTS: AirConfig = { singleBubbleUl: 100, cumulativeUl: 1000, cumulativeWindowMs: 900000, windowUl: 2.4 }

/** Checks the configurable limits; returns "" if valid. */
export function validateAirConfig(c: AirConfig): string {
    if (!(c.singleBubbleUl >= 50 && c.singleBubbleUl <= 250)) return "air.singleBubbleUl: must be 50..250 uL"
    if (!(c.cumulativeUl > 0 && c.cumulativeUl <= 1000)) return "air.cumulativeUl: must be 1..1000 uL"
    if (!(c.cumulativeWindowMs >= 60000 && c.cumulativeWindowMs <= 900000)) return "air.cumulativeWindowMs: must be 1..15 min"
    return ""
}

/** Verdict with no air anywhere (shared, never mutated). */
const AIR_CLEAR: AirVerdict = { single: false, cumulative: false, currentUl: 0, windowTotalUl: 0 }

export interface AirVerdict {
    single: boolean
    cumulative: boolean
    /** Volume of the bubble in the window now (µL, 0 when no air). */
    currentUl: number
    /** Air seen in the rolling window (µL). */
    windowTotalUl: number
}

const MAX_SEGMENTS = 64

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class AirDetector {
    readonly cfg: AirConfig
    /** Unset (falsy): no air seen yet. */
    private inAir: boolean
    private runUl = 0
    private readonly segT: number[] = []
    private readonly segV: number[] = []

    constructor(cfg: AirConfig) {
        this.cfg = cfg
    }

    update(nowMs: number, airInLine: boolean, pumpedUl: number): AirVerdict {
        // No air now, none passing and no history: the usual tick, answered first.
        if (!airInLine && !this.inAir && this.segT.length === 0) return AIR_CLEAR
        const moved = pumpedUl > 0 ? pumpedUl : 0
        let closed = 0
        if (airInLine) {
            this.inAir = true
            this.runUl += moved
        } else if (this.inAir) {
            // The tail left at some time since the last sample that saw air: count this tick's
            // volume too, so a bubble is never sized below its volume (at 100 ms and 1200 mL/h one
            // tick is 33 µL, two thirds of the smallest limit), and check it once more now.
            this.inAir = false
            closed = this.runUl + moved - this.cfg.windowUl
            this.runUl = 0
            if (closed > 0) {
                if (this.segT.length >= MAX_SEGMENTS) {
                    // Never drop air: fold the oldest into the next (kept longer = conservative).
                    this.segV[1] += this.segV[0]
                    this.segT.shift()
                    this.segV.shift()
                }
                this.segT.push(nowMs)
                this.segV.push(closed)
            }
        }
        // Forget segments older than the rolling window.
        while (this.segT.length > 0 && nowMs - this.segT[0] > this.cfg.cumulativeWindowMs) {
            this.segT.shift()
            this.segV.shift()
        }
        // Nothing in the window and no history: the shared clear verdict (no allocation per tick).
        if (!this.inAir && this.segV.length === 0) return AIR_CLEAR
        let current = this.inAir ? this.runUl - this.cfg.windowUl : 0
        if (current < 0) current = 0
        let total = current
        for (let i = 0; i < this.segV.length; i++) total += this.segV[i]
        return {
            single: current > this.cfg.singleBubbleUl || closed > this.cfg.singleBubbleUl,
            cumulative: total > this.cfg.cumulativeUl,
            currentUl: current,
            windowTotalUl: total,
        }
    }

    /** Volume of the bubble in the detector now (µL, window subtracted; 0 when no air). */
    seenUl(): number {
        const v = this.runUl - this.cfg.windowUl
        return this.inAir && v > 0 ? v : 0
    }

    /** Forgets the rolling history (operator purged the line). */
    resetHistory() {
        this.segT.length = 0
        this.segV.length = 0
    }
}
