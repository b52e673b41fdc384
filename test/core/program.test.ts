import { describe, expect, it } from "vitest"
import { bolusRateUlPerH, InfusionProgram, validateProgram } from "../../src/core/program"
import { findSyringe } from "../../src/core/syringe"

const bd50 = findSyringe("bd-plastipak-50")
const base: InfusionProgram = { syringeId: "bd-plastipak-50", rateUlPerH: 10000, vtbiUl: 5000, kvoRateUlPerH: 1000, bolusUl: 0, bolusDurationS: 0 }

function errorsOf(p: Partial<InfusionProgram>) {
    return validateProgram({ ...base, ...p } as InfusionProgram, bd50).errors
}

describe("program validation", () => {
    it("accepts a normal program", () => {
        expect(validateProgram(base, bd50)).toEqual({ ok: true, errors: [] })
    })

    it("rate: 0.1 and 1200 mL/h accepted, 0.099 and 1200.001 refused", () => {
        expect(errorsOf({ rateUlPerH: 100, kvoRateUlPerH: 100 })).toEqual([])
        expect(errorsOf({ rateUlPerH: 1_200_000 })).toEqual([])
        expect(errorsOf({ rateUlPerH: 99, kvoRateUlPerH: 0 })[0]).toMatch(/^rateUlPerH: 99 µL\/h is outside 100\.\.1200000/)
        expect(errorsOf({ rateUlPerH: 1_200_001 })[0]).toMatch(/^rateUlPerH/)
    })

    it("VTBI must fit the syringe: 50 mL ok, 50.001 mL refused", () => {
        expect(errorsOf({ vtbiUl: 50000 })).toEqual([])
        expect(errorsOf({ vtbiUl: 50001 })[0]).toMatch(/^vtbiUl/)
        expect(errorsOf({ vtbiUl: 0 })[0]).toMatch(/^vtbiUl/)
    })

    it("KVO must be 0 or 0.1..5 mL/h and not above the primary rate", () => {
        expect(errorsOf({ kvoRateUlPerH: 0 })).toEqual([])
        expect(errorsOf({ kvoRateUlPerH: 50 })[0]).toMatch(/below the pump minimum/)
        expect(errorsOf({ kvoRateUlPerH: 5001 })[0]).toMatch(/^kvoRateUlPerH/)
        expect(errorsOf({ rateUlPerH: 500, kvoRateUlPerH: 1000 })[0]).toMatch(/must not exceed the primary rate/)
    })

    it("bolus: 1 mL over 3 s is 1200 mL/h (allowed); over 2 s it is 1800 mL/h (refused)", () => {
        expect(bolusRateUlPerH({ ...base, bolusUl: 1000, bolusDurationS: 3 })).toBe(1_200_000)
        expect(errorsOf({ bolusUl: 1000, bolusDurationS: 3 })).toEqual([])
        expect(errorsOf({ bolusUl: 1000, bolusDurationS: 2 })[0]).toMatch(/more than the pump maximum of 1200\.000 mL\/h/)
        expect(errorsOf({ bolusUl: 99, bolusDurationS: 10 })[0]).toMatch(/below the minimum/)
        expect(errorsOf({ bolusUl: 500, bolusDurationS: 0 })[0]).toMatch(/^bolusDurationS/)
    })

    it("refuses non-integers, NaN, strings and unknown syringes with the field name", () => {
        expect(errorsOf({ rateUlPerH: 10.5 })[0]).toBe("rateUlPerH: must be a whole number of µL/h")
        expect(errorsOf({ vtbiUl: NaN })[0]).toBe("vtbiUl: must be a whole number of µL")
        expect(errorsOf({ rateUlPerH: "10" as unknown as number })[0]).toMatch(/^rateUlPerH/)
        expect(validateProgram({ ...base, syringeId: "nope" }, null).errors[0]).toBe("syringeId: unknown syringe 'nope'")
        expect(validateProgram(null, bd50).errors[0]).toBe("program: missing")
    })
})
