import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { Int32Store } from "../../src/core/int32Store"

describe("Int32Store (4 bytes per value, in small Buffer chunks)", () => {
    it("round-trips every signed 32-bit integer, including both extremes, at any index", () => {
        const s = new Int32Store(900)
        fc.assert(
            fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), fc.nat(899), (v, i) => {
                s.set(i, v)
                expect(s.get(i)).toBe(v)
            })
        )
        s.set(0, -2147483648)
        s.set(899, 2147483647)
        expect([s.get(0), s.get(899)]).toEqual([-2147483648, 2147483647])
    })

    it("keeps neighbours independent across chunk boundaries", () => {
        const s = new Int32Store(900)
        for (let i = 0; i < 900; i++) s.set(i, i * 1000003 - 450000000)
        for (let i = 0; i < 900; i++) expect(s.get(i)).toBe(i * 1000003 - 450000000)
    })

    it("times past 2^31 ms keep exact 32-bit differences (the occlusion window compares only differences)", () => {
        const s = new Int32Store(2)
        const t0 = 2 ** 32 - 500 // 49.7 days of uptime, just before the wrap
        s.set(0, t0)
        s.set(1, t0 + 1000)
        expect((s.get(1) - s.get(0)) | 0).toBe(1000)
    })
})
