// Deterministic pseudo-random source for the plant: the same seed gives the same noise, artefacts
// and bubble timing, so every failure a scenario finds can be replayed exactly.

/** mulberry32: 32-bit state, period 2^32, good enough for sensor noise (not for cryptography). */
export class Rng {
    private s: number

    constructor(seed: number) {
        this.s = (seed >>> 0) ^ 0x9e3779b9
    }

    /** Uniform in [0, 1). */
    next(): number {
        this.s = (this.s + 0x6d2b79f5) >>> 0
        let t = this.s
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }

    uniform(lo: number, hi: number): number {
        return lo + (hi - lo) * this.next()
    }

    /** Standard normal (Box-Muller). */
    normal(): number {
        let u = this.next()
        if (u < 1e-12) u = 1e-12
        const v = this.next()
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    }

    /** Exponential waiting time with the given mean. */
    exponential(mean: number): number {
        let u = this.next()
        if (u < 1e-12) u = 1e-12
        return -Math.log(u) * mean
    }
}
