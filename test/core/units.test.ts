import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { floorDiv, formatThousandths, isWholeNumber, parseThousandths } from "../../src/core/units"

describe("parseThousandths", () => {
    it("parses decimal text exactly", () => {
        expect(parseThousandths("10")).toBe(10000)
        expect(parseThousandths("0.1")).toBe(100)
        expect(parseThousandths("1200")).toBe(1200000)
        expect(parseThousandths("12.345")).toBe(12345)
        expect(parseThousandths(" 5.5 ")).toBe(5500)
    })
    it("refuses anything that is not a plain decimal", () => {
        for (const bad of ["", ".", "1.2.3", "-1", "+1", "1e3", "0.0001", "abc", "1,5", "NaN", "Infinity"]) {
            expect(parseThousandths(bad)).toBeNaN()
        }
    })
    it("never throws on arbitrary text", () => {
        fc.assert(fc.property(fc.string(), s => {
            const v = parseThousandths(s)
            return Number.isNaN(v) || (Number.isInteger(v) && v >= 0)
        }))
    })
    it("round-trips with formatThousandths", () => {
        fc.assert(fc.property(fc.integer({ min: 0, max: 99999999 }), n => parseThousandths(formatThousandths(n)) === n))
    })
})

describe("formatThousandths", () => {
    it("prints three decimals without float formatting", () => {
        expect(formatThousandths(5000)).toBe("5.000")
        expect(formatThousandths(7)).toBe("0.007")
        expect(formatThousandths(-1250)).toBe("-1.250")
    })
})

describe("floorDiv and isWholeNumber", () => {
    it("matches BigInt division for large operands", () => {
        fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 52 }), fc.integer({ min: 1, max: 2 ** 31 }), (a, b) =>
            floorDiv(a, b) === Number(BigInt(a) / BigInt(b))))
    })
    it("accepts only finite integers", () => {
        expect(isWholeNumber(3)).toBe(true)
        expect(isWholeNumber(3.5)).toBe(false)
        expect(isWholeNumber(NaN)).toBe(false)
        expect(isWholeNumber(Infinity)).toBe(false)
        expect(isWholeNumber("3")).toBe(false)
        expect(isWholeNumber(null)).toBe(false)
    })
})
