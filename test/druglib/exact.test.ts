import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { compareProducts, MAX_EXACT, ratioRound } from "../../src/core/druglib/exact"

function refRound(num: number[], den: number[]) {
    const n = num.reduce((a, b) => a * BigInt(b), 1n)
    const d = den.reduce((a, b) => a * BigInt(b), 1n)
    const q = n / d
    const r = n - q * d
    return { value: Number(2n * r >= d && r !== 0n ? q + 1n : q), exact: r === 0n }
}

describe("exact integer ratio", () => {
    it("hand values: 5000*1000*70000*60*250000/(1000*400000*1e6) = 13125 exactly", () => {
        expect(ratioRound([5000, 1000, 60, 250000, 70000], [400000, 1000000, 1000])).toEqual({ value: 13125, exact: true })
    })
    it("rounds halves up and other remainders to nearest", () => {
        expect(ratioRound([7], [2])).toEqual({ value: 4, exact: false }) // 3.5
        expect(ratioRound([10], [3])).toEqual({ value: 3, exact: false }) // 3.33
        expect(ratioRound([11], [3])).toEqual({ value: 4, exact: false }) // 3.67
        expect(ratioRound([0, 5], [3])).toEqual({ value: 0, exact: true })
    })
    it("refuses (-1) instead of approximating when a reduced product passes 2^53", () => {
        expect(ratioRound([1e9, 1e9 + 7], [3]).value).toBe(-1)
    })
    it("property: equals BigInt arithmetic whenever it answers, and answers when the raw products are exact", () => {
        const f = fc.integer({ min: 1, max: 2_000_000 })
        fc.assert(
            fc.property(fc.array(f, { minLength: 1, maxLength: 5 }), fc.array(f, { minLength: 1, maxLength: 4 }), (num, den) => {
                const ref = refRound(num, den)
                const rawN = num.reduce((a, b) => a * BigInt(b), 1n)
                const rawD = den.reduce((a, b) => a * BigInt(b), 1n)
                const got = ratioRound(num.slice(), den.slice())
                if (got.value === -1) return rawN > BigInt(MAX_EXACT) || rawD > BigInt(MAX_EXACT)
                return got.value === ref.value && got.exact === ref.exact
            }),
            { numRuns: 3000 }
        )
    })
    it("compareProducts agrees with BigInt", () => {
        fc.assert(
            fc.property(fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 3 }), (a, b) => {
                const x = a.reduce((p, v) => p * BigInt(v), 1n)
                const y = b.reduce((p, v) => p * BigInt(v), 1n)
                const c = compareProducts(a.slice(), b.slice())
                return c === 2 || c === (x < y ? -1 : x > y ? 1 : 0)
            }),
            { numRuns: 2000 }
        )
    })
})
