// REQ-HEAP-002: the dose-window ring's memory is bounded by its 241 one-minute buckets at 4 bytes
// each (whole 256-byte chunks: 4 of them, 1,024 B), however long the infusion runs, and the
// compact ring keeps the window sums exact.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { BUCKET_MS, DoseWindowTracker, MAX_WINDOW_MIN } from "../../src/core/doseLimit"
import { REFERENCE_MAX_STEPS_PER_S } from "../../src/core/syringe"

/** ceil(241 buckets x 4 B / 256 B per chunk) = 4 chunks. */
const RING_BOUND_BYTES = 4 * 256
/** Most steps the drive can fire in one bucket (2000 steps/s x 60 s). */
const MAX_STEPS_PER_BUCKET = REFERENCE_MAX_STEPS_PER_S * (BUCKET_MS / 1000)

describe("dose-window ring memory (REQ-HEAP-002)", () => {
    it("holds at most 1,024 B of buckets over 10 days at the drive's top speed", () => {
        const w = new DoseWindowTracker()
        w.advance(0)
        expect(w.addLimit(MAX_WINDOW_MIN, 2 ** 40)).toBe("")
        expect(w.ringBytes()).toBe(0) // nothing delivered yet: no chunk taken
        let maxBytes = 0
        for (let min = 0; min < 10 * 24 * 60; min++) {
            w.advance(min * BUCKET_MS)
            w.add(MAX_STEPS_PER_BUCKET)
            maxBytes = Math.max(maxBytes, w.ringBytes())
        }
        expect(maxBytes).toBe(RING_BOUND_BYTES)
        // Full ring at top speed: the window holds its 241 buckets of 120,000 steps each.
        expect(w.windowSteps(0)).toBe((MAX_WINDOW_MIN + 1) * MAX_STEPS_PER_BUCKET)
    })

    it("property: window sums equal a plain per-minute reference, across gaps longer than the ring", () => {
        fc.assert(
            fc.property(
                fc.array(fc.record({ gapMin: fc.oneof(fc.constant(0), fc.constant(1), fc.nat(5), fc.integer({ min: 240, max: 600 })), steps: fc.nat(MAX_STEPS_PER_BUCKET) }), { minLength: 1, maxLength: 300 }),
                fc.integer({ min: 1, max: MAX_WINDOW_MIN }),
                (deliveries, windowMin) => {
                    const w = new DoseWindowTracker()
                    w.advance(0)
                    w.addLimit(windowMin, 2 ** 40)
                    const perMin: number[] = []
                    let min = 0
                    for (const d of deliveries) {
                        min += d.gapMin
                        w.advance(min * BUCKET_MS + 59_999) // any time inside the minute
                        w.add(d.steps)
                        perMin[min] = (perMin[min] ?? 0) + d.steps
                        let ref = 0
                        for (let m = Math.max(0, min - windowMin); m <= min; m++) ref += perMin[m] ?? 0
                        expect(w.windowSteps(0)).toBe(ref)
                        expect(w.ringBytes()).toBeLessThanOrEqual(RING_BOUND_BYTES)
                    }
                }
            ),
            { numRuns: 60 }
        )
    })
})
