// Run-time dose limits (REQ-DOSE-009): delivered drug over rolling windows, counted in microsteps
// (for one syringe and concentration a dose is a fixed number of steps, so a limit in mg is a limit
// in steps: maxSteps = floor((maxAmount as pL, minus 1 pL) / pL per step) is never more than the
// limit). Everything the plunger is told to move counts: continuous, loading, bolus, titrated, KVO.
//
// Time is cut into 1-minute buckets. A window of W minutes is checked over the current bucket and
// the W before it, so the sum covers at least every interval of W minutes that ends now (a true
// sliding window starting mid-bucket is inside it): conservative, never permissive.
//
// Cost per tick: one add, and once a minute one subtraction per window. No strings.
//
// Memory (REQ-HEAP-002): the ring is an Int32Store (4 bytes per bucket in 256-byte chunks, taken
// up to the highest slot written: at most 4 chunks, 1,024 B), not a number[] (a 241-element array
// was one 2,156 B block of the VM's 64 KB heap; measured with the HIL heap census). A bucket holds one minute of steps: at most the drive's
// REFERENCE_MAX_STEPS_PER_S (2000) x 60 = 120,000, far inside int32.

import { Int32Store } from "./int32Store"

export const BUCKET_MS = 60000
/** Longest window the tracker holds, in minutes (the ring holds this + 1 buckets). */
export const MAX_WINDOW_MIN = 240
export const MAX_LIMITS = 4

export interface DoseLimit {
    windowMin: number
    maxSteps: number
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class DoseWindowTracker {
    /** Steps per 1-minute bucket; bucket b at slot b mod (MAX_WINDOW_MIN + 1). */
    private ring = new Int32Store(MAX_WINDOW_MIN + 1)
    private readonly limits: DoseLimit[] = []
    private readonly sums: number[] = []
    private bucket = -1

    /** Adds a limit; returns "" or the reason it is refused. */
    addLimit(windowMin: number, maxSteps: number): string {
        if (this.limits.length >= MAX_LIMITS) return "at most " + MAX_LIMITS + " dose windows"
        if (!(windowMin >= 1 && windowMin <= MAX_WINDOW_MIN && Math.floor(windowMin) === windowMin)) return "window must be 1.." + MAX_WINDOW_MIN + " min"
        if (!(maxSteps >= 0 && Math.floor(maxSteps) === maxSteps)) return "maximum must be a whole number of steps"
        // A limit added mid-infusion starts from what the ring already holds.
        let sum = 0
        if (this.bucket >= 0) for (let k = 0; k <= windowMin; k++) sum += this.ring.get(this.slot(this.bucket - k))
        this.limits.push({ windowMin: windowMin, maxSteps: maxSteps })
        this.sums.push(sum)
        return ""
    }

    count(): number {
        return this.limits.length
    }

    limit(i: number): DoseLimit {
        return this.limits[i]
    }

    /** Steps in window i (current bucket and the windowMin before it) as of the last advance. */
    windowSteps(i: number): number {
        return this.sums[i]
    }

    /** Moves the bucket clock to `nowMs`, dropping buckets that left each window. */
    advance(nowMs: number) {
        const b = Math.floor(nowMs / BUCKET_MS)
        if (this.bucket < 0) {
            this.bucket = b
            return
        }
        if (b <= this.bucket) return // same bucket (a clock that went back keeps the newer one)
        if (b - this.bucket > MAX_WINDOW_MIN + 1) {
            // Everything is older than the longest window.
            this.ring = new Int32Store(MAX_WINDOW_MIN + 1)
            for (let k = 0; k < this.sums.length; k++) this.sums[k] = 0
            this.bucket = b
            return
        }
        while (this.bucket < b) {
            this.bucket++
            for (let k = 0; k < this.limits.length; k++) this.sums[k] -= this.ring.get(this.slot(this.bucket - this.limits[k].windowMin - 1))
            // Only a non-zero slot is written, so minutes without delivery take no chunk.
            const s = this.slot(this.bucket)
            if (this.ring.get(s) !== 0) this.ring.set(s, 0)
        }
    }

    /** Steps that can still be delivered now without any window going over its maximum;
     *  -1 when no limit is set. Call advance(nowMs) first. */
    allowance(): number {
        let a = -1
        for (let k = 0; k < this.limits.length; k++) {
            const left = this.limits[k].maxSteps - this.sums[k]
            if (a < 0 || left < a) a = left > 0 ? left : 0
        }
        return a
    }

    /** Index of the window with the least allowance (for messages); -1 without limits. */
    tightest(): number {
        let best = -1
        for (let k = 0; k < this.limits.length; k++)
            if (best < 0 || this.limits[k].maxSteps - this.sums[k] < this.limits[best].maxSteps - this.sums[best]) best = k
        return best
    }

    add(steps: number) {
        if (steps <= 0 || this.bucket < 0) return
        const s = this.slot(this.bucket)
        this.ring.set(s, this.ring.get(s) + steps)
        for (let k = 0; k < this.sums.length; k++) this.sums[k] += steps
    }

    /** Bytes of bucket storage held (for the memory-bound test). */
    ringBytes(): number {
        return this.ring.heldBytes()
    }

    private slot(b: number): number {
        const n = MAX_WINDOW_MIN + 1
        const r = b % n
        return r < 0 ? r + n : r
    }
}
