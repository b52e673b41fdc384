// Body surface area dosing (REQ-DERS-019). BSA by Mosteller, BSA[m²] = sqrt(height[cm] × weight[kg]
// / 3600); expected values are computed by hand from that formula, and the integer rule is checked
// against BigInt bounds, not against the code's own output.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { checkBsa, mostellerThousandthsM2 } from "../../src/core/druglib/bsa"
import { AMT_MG, parseUnit } from "../../src/core/druglib/doseUnits"
import { doseToRateUlPerH, emptyRequest, programDose } from "../../src/core/druglib/dosing"
import { compileSource } from "../../tools/druglib/compile"
import { EventLog } from "../../src/core/eventLog"
import { testSource } from "./fixture"

describe("Mosteller body surface area in integer units", () => {
    it("170 cm, 70 kg: sqrt(170 × 70 / 3600) = 1.81812 m² -> 1818/1000", () => {
        expect(mostellerThousandthsM2(1700, 70_000)).toBe(1818)
    })

    it("100 cm, 16 kg: sqrt(1600 / 3600) = 0.66667 m² -> 667; 50 cm, 3.5 kg: 0.22048 -> 220", () => {
        expect(mostellerThousandthsM2(1000, 16_000)).toBe(667)
        expect(mostellerThousandthsM2(500, 3_500)).toBe(220)
    })

    it("a value exactly halfway rounds up: 9·(2n−1)² = h·w gives n (n = 1000 at h·w = 35,964,009)", () => {
        // BSA = sqrt(x/36)·(1/1000 m²); at x = 9·1999² it is exactly 999.5 thousandths.
        expect(9 * 1999 * 1999).toBe(35_964_009)
        expect(mostellerThousandthsM2(35_964_009, 1)).toBe(1000)
        expect(mostellerThousandthsM2(35_964_008, 1)).toBe(999)
    })

    it("property: the result n is the nearest thousandth, 9(2n−1)² <= h·w < 9(2n+1)² (BigInt)", () => {
        fc.assert(
            fc.property(fc.integer({ min: 300, max: 2500 }), fc.integer({ min: 250, max: 500_000 }), (h, w) => {
                const n = BigInt(mostellerThousandthsM2(h, w))
                const x = BigInt(h) * BigInt(w)
                return 9n * (2n * n - 1n) ** 2n <= x && x < 9n * (2n * n + 1n) ** 2n
            }),
            { numRuns: 5000 }
        )
    })

    it("limits: height 300..2500 mm, weight 250 g..500 kg, BSA 0.050..4.000 m², each refused with a reason", () => {
        expect(checkBsa(1700, 70_000)).toEqual({ bsaThousandthsM2: 1818, reasons: [] })
        expect(checkBsa(299, 70_000).reasons[0]).toBe("height 299 mm is outside 300..2500 mm")
        expect(checkBsa(2501, 70_000).reasons[0]).toBe("height 2501 mm is outside 300..2500 mm")
        expect(checkBsa(2500, 70_000).bsaThousandthsM2).toBe(2205) // sqrt(250×70/3600) = 2.2048
        expect(checkBsa(1700, 249).reasons[0]).toMatch(/weight 249 g is outside/)
        expect(checkBsa(1700, 500_001).reasons[0]).toMatch(/weight 500001 g is outside/)
        expect(checkBsa(1700.5, 70_000).reasons[0]).toBe("height must be a whole number of mm")
        // 30 cm, 0.25 kg: sqrt(30 × 0.25 / 3600) = 0.0456 m² < 0.050.
        expect(checkBsa(300, 250).reasons[0]).toMatch(/body surface area 46\/1000 m² \(Mosteller\) is outside 50\.\.4000/)
        // 250 cm, 300 kg: sqrt(250 × 300 / 3600) = 4.564 m² > 4.000.
        expect(checkBsa(2500, 300_000).reasons[0]).toMatch(/body surface area 4564\/1000/)
    })
})

function bsaLibrary() {
    const src = testSource()
    src.careAreas[0].entries.push({
        drug: "Fluorouracil",
        doseUnit: "mg/m2/h",
        dose: { softMax: 50, hardMax: 60 },
        weightKg: { hardMin: 30, hardMax: 250 },
        concentration: { unit: "mg", standard: [{ amount: 2500, volumeMl: 50 }] },
        loading: { unit: "mg/m2", dose: { softMax: 400, hardMax: 500 }, durationS: { hardMin: 60, hardMax: 600 } },
    })
    const r = compileSource(src)
    expect(r.errors).toEqual([])
    return r.library
}

function fu(dose: number, heightMm: number, weightG: number) {
    const r = emptyRequest()
    r.careArea = "ICU"
    r.drug = "Fluorouracil"
    r.doseUnit = parseUnit("mg/m2/h", true)
    r.dose = dose
    r.concUnit = AMT_MG
    r.concentration = { amount: 2_500_000, volumeUl: 50_000 } // 2500 mg / 50 mL = 50 mg/mL
    r.weightG = weightG
    r.heightMm = heightMm
    r.syringeId = "bd-plastipak-50"
    r.vtbiUl = 50_000
    return r
}

describe("per-m² dosing through the drug library", () => {
    it("41.667 mg/m²/h at 1.818 m² and 50 mg/mL: 75.7506 mg/h = 1.515 mL/h -> 1515 µL/h", () => {
        const lib = bsaLibrary()
        const res = programDose(lib, fu(41_667, 1700, 70_000), new EventLog(20), 0)
        expect(res.reasons).toEqual([])
        expect(res.bsaThousandthsM2).toBe(1818)
        expect(res.program.rateUlPerH).toBe(1515)
    })

    it("loading 400 mg/m² at 1.818 m² is 727.2 mg = 14.544 mL", () => {
        const lib = bsaLibrary()
        const req = fu(41_667, 1700, 70_000)
        req.loadingDose = 400_000
        req.loadingDurationS = 300
        const res = programDose(lib, req, new EventLog(20), 0)
        expect(res.reasons).toEqual([])
        expect(res.loadingUl).toBe(14_544)
    })

    it("refuses without height, with an implausible height, or beyond the BSA limits; the log says why", () => {
        const lib = bsaLibrary()
        const log = new EventLog(20)
        const noHeight = fu(41_667, -1, 70_000)
        expect(programDose(lib, noHeight, log, 0).reasons[0]).toBe("patient height and weight are required: Fluorouracil is dosed per m² of body surface area")
        expect(programDose(lib, fu(41_667, 3000, 70_000), log, 0).reasons[0]).toBe("height 3000 mm is outside 300..2500 mm")
        expect(log.ofKind("DERS_REFUSED").length).toBe(2)
    })

    it("conversion without a BSA is refused (-1), never computed per patient of 1 m²", () => {
        expect(doseToRateUlPerH(parseUnit("mg/m2/h", true), 41_667, -1, AMT_MG, { amount: 2_500_000, volumeUl: 50_000 }).value).toBe(-1)
    })

    it("per-kg and per-m² together is not a unit", () => {
        expect(parseUnit("mg/m2/h", true)).toBeGreaterThan(0)
        expect(parseUnit("mg/kg/m2/h", true)).toBe(-1)
    })
})
