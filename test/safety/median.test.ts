// median() of the occlusion filter sorts in a reused scratch array (no allocation per second in
// the VM, TODO-HEAP-1). The scratch must never leak values between calls: a long input followed
// by a shorter one still gives the textbook median of the shorter one.

import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { median, OCCLUSION_DEFAULTS, OcclusionDetector } from "../../src/core/safety/occlusion"

describe("median filter", () => {
    it("is the middle value (odd n) or the mean of the two middle values (even n), by definition", () => {
        expect(median([5, 1, 9])).toBe(5)
        expect(median([4, 1, 3, 2])).toBe(2.5)
        expect(median([7])).toBe(7)
        expect(Number.isNaN(median([]))).toBe(true)
    })

    it("after a longer input, a shorter one ignores what the longer one left in the scratch", () => {
        median([100, 200, 300, 400, 500, 600, 700])
        expect(median([3, 1, 2])).toBe(2)
        expect(median([10, 20])).toBe(15)
    })

    it("leaves its input untouched and agrees with a sort-based median on any sequence of inputs", () => {
        const arr = fc.array(fc.double({ min: -2000, max: 2000, noNaN: true }), { minLength: 1, maxLength: 40 })
        fc.assert(
            fc.property(fc.array(arr, { minLength: 1, maxLength: 5 }), inputs => {
                for (const xs of inputs) {
                    const copy = xs.slice()
                    const s = xs.slice().sort((a, b) => a - b)
                    const n = s.length
                    const want = n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
                    expect(median(xs)).toBe(want)
                    expect(xs).toEqual(copy)
                }
            }),
        )
    })
})

describe("the occlusion detector's running median (a sorted window, issue 16)", () => {
    // One tick a second: the first second's mean holds two readings (t = 0 and 1000 ms), each
    // later one a single reading. The detector's filtered pressure must be the textbook median of
    // the last medianLength (31) means at every second, with repeats, steps and sawtooth noise.
    it("equals a sort-based median of the last 31 one-second means, every second, on any sequence", () => {
        // At least 40 seconds: the window is full and values leave it (the case a sorted window can get wrong).
        const values = fc.array(fc.oneof(fc.integer({ min: -50, max: 1200 }), fc.double({ min: -50, max: 1200, noNaN: true })), { minLength: 40, maxLength: 120 })
        fc.assert(
            fc.property(values, ps => {
                const d = new OcclusionDetector(OCCLUSION_DEFAULTS)
                const means: number[] = []
                d.update(0, ps[0], 0, false)
                for (let k = 1; k < ps.length; k++) {
                    d.update(k * 1000, ps[k], 0, false)
                    means.push(k === 1 ? (ps[0] + ps[1]) / 2 : ps[k])
                    const win = means.slice(-OCCLUSION_DEFAULTS.medianLength).sort((a, b) => a - b)
                    const n = win.length
                    const expected = n % 2 === 1 ? win[(n - 1) / 2] : (win[n / 2 - 1] + win[n / 2]) / 2
                    if (d.filteredMmHg() !== expected) return false
                }
                return true
            }),
            { numRuns: 300 }
        )
    })
})

