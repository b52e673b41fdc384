import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { EventLog } from "../../src/core/eventLog"
import { BASIC_INFUSION, DoseRequest, programDose } from "../../src/core/druglib/dosing"
import { NONE } from "../../src/core/druglib/model"
import { A, compileTest, dopamine, heparin, morphine, req } from "./fixture"
import { compileFile } from "../../tools/druglib/compile"

const { lib } = compileTest()

function run(r: DoseRequest) {
    const log = new EventLog(100)
    return { res: programDose(lib, r, log, 1000), log }
}

/** Expected verdict for value v under inclusive bounds (NONE = absent): the DERS rule. */
function verdict(v: number, b: { hardMin?: number; softMin?: number; softMax?: number; hardMax?: number }) {
    if ((b.hardMin !== undefined && v < b.hardMin) || (b.hardMax !== undefined && v > b.hardMax)) return "refused"
    if ((b.softMin !== undefined && v < b.softMin) || (b.softMax !== undefined && v > b.softMax)) return "confirm"
    return "ok"
}

describe("dose to mL/h conversion (hand calculations)", () => {
    it("dopamine 5 mcg/kg/min, 70 kg, 400 mg/250 mL: 5*70*60 mcg/h / 1600 mcg/mL = 13.125 mL/h", () => {
        const { res } = run(dopamine(5000))
        expect(res.status).toBe("ok")
        expect(res.program.rateUlPerH).toBe(13125)
        expect(res.rateExact).toBe(true)
    })
    it("same dose with 200 mg/50 mL (4000 mcg/mL): 21000/4000 = 5.25 mL/h", () => {
        const { res } = run(dopamine(5000, { concentration: { amount: 200000, volumeUl: 50000 } }))
        expect(res.program.rateUlPerH).toBe(5250)
    })
    it("one rounding step, halves up: 3 mcg/kg/min, 71.3 kg, 4000 mcg/mL = 12834/4000 = 3.2085 mL/h -> 3209 uL/h", () => {
        const { res } = run(dopamine(3000, { weightG: 71300, concentration: { amount: 200000, volumeUl: 50000 } }))
        expect(res.program.rateUlPerH).toBe(3209)
        expect(res.rateExact).toBe(false)
    })
    it("rounds down below a half: 2.5 mcg/kg/min, 73.4 kg, 1600 mcg/mL = 11010/1600 = 6.88125 mL/h -> 6881 uL/h", () => {
        const { res } = run(dopamine(2500, { weightG: 73400 }))
        expect(res.program.rateUlPerH).toBe(6881)
    })
    it("heparin 18 units/kg/h, 80 kg, 25000 units/50 mL: 1440/500 = 2.88 mL/h; bolus 40 units/kg = 3200/500 = 6.4 mL", () => {
        const { res } = run(heparin(18000, { bolusDose: 40000, bolusDurationS: 60 }))
        expect(res.status).toBe("ok")
        expect(res.program.rateUlPerH).toBe(2880)
        expect(res.program.bolusUl).toBe(6400)
        expect(res.program.bolusDurationS).toBe(60)
    })
    it("morphine 2 mg/h at 1 mg/mL = 2 mL/h; KVO from the library (0.5 mL/h)", () => {
        const { res } = run(morphine(2000))
        expect(res.program.rateUlPerH).toBe(2000)
        expect(res.program.kvoRateUlPerH).toBe(500)
    })
    it("insulin 4 units/h at 1 unit/mL = 4 mL/h; no KVO configured -> 0", () => {
        const { res } = run(req("ICU", "Insulin", "units/h", 4000, { concUnit: A("units"), concentration: { amount: 100000, volumeUl: 100000 } }))
        expect(res.program.rateUlPerH).toBe(4000)
        expect(res.program.kvoRateUlPerH).toBe(0)
    })
    it("pediatric KCl 0.25 mEq/kg/h, 3.5 kg, 10 mEq/50 mL (0.2 mEq/mL) = 0.875/0.2 = 4.375 mL/h", () => {
        const { res } = run(req("Pediatrics", "Potassium chloride", "mEq/kg/h", 250, { concUnit: A("mEq"), concentration: { amount: 10000, volumeUl: 50000 }, weightG: 3500 }))
        expect(res.program.rateUlPerH).toBe(4375)
    })
    it("heparin loading 80 units/kg, 80 kg = 6400 units / 500 = 12.8 mL as a first phase over 120 s", () => {
        const { res } = run(heparin(18000, { loadingDose: 80000, loadingDurationS: 120 }))
        expect(res.loadingUl).toBe(12800)
        expect(res.loadingDurationS).toBe(120)
    })
})

describe("every limit type at, just inside and just outside each bound", () => {
    type Case = { name: string; field: string; bounds: Record<string, number>; make: (v: number) => DoseRequest }
    const cases: Case[] = [
        { name: "continuous dose", field: "dose", bounds: { hardMin: 1000, softMin: 2000, softMax: 15000, hardMax: 20000 }, make: v => dopamine(v) },
        { name: "patient weight", field: "weight", bounds: { hardMin: 30000, softMin: 40000, softMax: 150000, hardMax: 250000 }, make: v => dopamine(5000, { weightG: v }) },
        {
            name: "custom concentration (per mL)",
            field: "concentration",
            bounds: { hardMin: 500, softMin: 800, softMax: 3200, hardMax: 6400 },
            make: v => dopamine(5000, { concentration: { amount: v, volumeUl: 1000 } }),
        },
        { name: "bolus dose", field: "bolus", bounds: { softMin: 20000, softMax: 80000, hardMax: 100000 }, make: v => heparin(18000, { bolusDose: v, bolusDurationS: 120 }) },
        {
            name: "bolus duration (rate limit)",
            field: "bolusDuration",
            bounds: { hardMin: 30, softMin: 60, softMax: 300, hardMax: 600 },
            make: v => heparin(18000, { bolusDose: 40000, bolusDurationS: v }),
        },
        { name: "loading dose", field: "loading", bounds: { softMax: 80000, hardMax: 100000 }, make: v => heparin(18000, { loadingDose: v, loadingDurationS: 120 }) },
        {
            name: "loading duration",
            field: "loadingDuration",
            bounds: { hardMin: 30, softMin: 60, softMax: 300, hardMax: 600 },
            make: v => heparin(18000, { loadingDose: 40000, loadingDurationS: v }),
        },
        {
            name: "basic infusion global mL/h limits",
            field: "rate",
            bounds: { hardMin: 100, softMax: 200000, hardMax: 500000 },
            make: v => req("ICU", BASIC_INFUSION, "mL/h", v, { vtbiUl: 50000 }),
        },
        {
            name: "basic infusion, pediatric override",
            field: "rate",
            bounds: { hardMin: 100, softMax: 60000, hardMax: 120000 },
            make: v => req("Pediatrics", BASIC_INFUSION, "mL/h", v),
        },
    ]
    for (const c of cases) {
        it(c.name, () => {
            for (const b of Object.values(c.bounds)) {
                for (const v of [b - 1, b, b + 1]) {
                    if (v <= 0) continue
                    const { res, log } = run(c.make(v))
                    const want = verdict(v, c.bounds)
                    expect(res.status, c.name + " value " + v).toBe(want)
                    if (want === "refused") {
                        expect(res.reasons.join(";")).toMatch(c.field === "rate" ? /^rate / : new RegExp("^" + c.field + " "))
                        expect(log.ofKind("DERS_REFUSED").length).toBe(1)
                        expect(res.program).toBe(null)
                    }
                    if (want === "confirm") {
                        expect(res.soft.map(s => s.field)).toEqual([c.field])
                        expect(res.soft[0].limit).toBe(v < (c.bounds.softMin ?? -1) ? c.bounds.softMin : c.bounds.softMax)
                        expect(res.program).toBe(null)
                        // Confirmed: programmed, and the override logged with limit and value.
                        const again = c.make(v)
                        again.confirmed = [c.field]
                        const ok = run(again)
                        expect(ok.res.status).toBe("ok")
                        const o = ok.log.ofKind("DERS_OVERRIDE")
                        expect(o.length).toBe(1)
                        expect(o[0].detail).toContain(c.field + "=")
                        expect(o[0].detail).toContain(ok.res.soft[0].bound)
                    }
                }
            }
        })
    }

    it("override text carries value and limit in the clinician's units", () => {
        const { res, log } = run(dopamine(17000, { confirmed: ["dose"] }))
        expect(res.status).toBe("ok")
        expect(log.ofKind("DERS_OVERRIDE")[0].detail).toBe("area=ICU drug=Dopamine dose=17.000 mcg/kg/min beyond softMax 15.000 mcg/kg/min (confirmed)")
    })

    it("confirming one field does not confirm another", () => {
        const { res } = run(dopamine(17000, { weightG: 160000, confirmed: ["dose"] }))
        expect(res.status).toBe("confirm")
        expect(res.soft.map(s => s.field).sort()).toEqual(["dose", "weight"])
    })

    it("10x the hard maximum is refused with its reason even if 'confirmed'", () => {
        const { res } = run(dopamine(200000, { confirmed: ["dose"] }))
        expect(res.status).toBe("refused")
        expect(res.reasons).toEqual(["dose 200.000 mcg/kg/min is above the hard maximum 20.000 mcg/kg/min"])
    })
})

describe("max dose per time window", () => {
    // Morphine: max 50 mg in 240 min; 12.5 mg/h * 4 h = 50 mg exactly. 2 mg/mL so the 50 mL
    // syringe holds 100 mg and the VTBI does not cap the window.
    const m2 = { amount: 100000, volumeUl: 50000 }
    it("at the limit passes (soft dose override confirmed), one thousandth over is refused", () => {
        expect(run(morphine(12500, { confirmed: ["dose"], concentration: m2 })).res.status).toBe("ok")
        const { res } = run(morphine(12501, { confirmed: ["dose"], concentration: m2 }))
        expect(res.status).toBe("refused")
        expect(res.reasons[0]).toBe("programmed doses give 50.004 mg in 240 min; the limit is 50.000 mg per 240 min")
    })
    it("a bolus counts: 12 mg/h * 4 h + 2 mg = 50 mg passes, + 2.001 mg is refused", () => {
        expect(run(morphine(12000, { confirmed: ["dose"], bolusDose: 2000, bolusDurationS: 60, concentration: m2 })).res.status).toBe("ok")
        expect(run(morphine(12000, { confirmed: ["dose", "bolus"], bolusDose: 2001, bolusDurationS: 60, concentration: m2 })).res.status).toBe("refused")
    })
    it("the VTBI caps the continuous part: 15 mg/h with VTBI 20 mL (40 mg) is within 50 mg / 4 h; VTBI 26 mL (52 mg) is not", () => {
        expect(run(morphine(15000, { confirmed: ["dose"], vtbiUl: 20000, concentration: m2 })).res.status).toBe("ok")
        expect(run(morphine(15000, { confirmed: ["dose"], vtbiUl: 26000, concentration: m2 })).res.status).toBe("refused")
    })
    it("per-kg window: KCl 0.25 mEq/kg/h * 4 h = 1 mEq/kg passes; 0.251 is refused (5 kg: 5 mEq, syringe holds 10)", () => {
        const k = (d: number) =>
            req("Pediatrics", "Potassium chloride", "mEq/kg/h", d, { concUnit: A("mEq"), concentration: { amount: 10000, volumeUl: 50000 }, weightG: 5000, vtbiUl: 50000 })
        expect(run(k(250)).res.status).toBe("ok")
        const r = run(k(251)).res
        expect(r.status).toBe("refused")
        expect(r.reasons[0]).toContain("the limit is 1.000 mEq/kg per 240 min")
    })
})

describe("programming errors refused with a clear reason", () => {
    it("unit confusion: a flow rate entered for a dose-based drug", () => {
        const { res } = run(dopamine(13125, { doseUnit: A("mL") | 0x40 }))
        expect(res.status).toBe("refused")
        expect(res.reasons[0]).toBe("unit confusion: Dopamine is programmed in mcg/kg/min, not mL/h (dose rate vs flow rate)")
    })
    it("unit confusion: a dose unit entered for the basic (mL/h) infusion", () => {
        const { res } = run(req("ICU", BASIC_INFUSION, "mcg/kg/min", 5000))
        expect(res.reasons[0]).toContain("unit confusion")
    })
    it("wrong dose unit (mcg/min for mcg/kg/min) is not converted", () => {
        const { res } = run(dopamine(350000, { doseUnit: 3 | 0x20 }))
        expect(res.reasons[0]).toBe("dose unit mcg/min does not match the library unit mcg/kg/min for Dopamine")
    })
    it("missing weight for weight-based dosing", () => {
        const { res } = run(dopamine(5000, { weightG: NONE }))
        expect(res.reasons).toEqual(["patient weight is required: Dopamine is dosed per kg"])
    })
    it("concentration not in the library (and no custom range) is refused", () => {
        const { res } = run(heparin(18000, { concentration: { amount: 20000000, volumeUl: 50000 } }))
        expect(res.reasons[0]).toBe("concentration mismatch: 20000.000 units/50.000 mL is not a library concentration of Heparin")
    })
    it("an equivalent concentration (800 mg/500 mL = 400 mg/250 mL) matches", () => {
        expect(run(dopamine(5000, { concentration: { amount: 800000, volumeUl: 500000 } })).res.program.rateUlPerH).toBe(13125)
    })
    it("concentration unit mismatch (mcg entered, library mg)", () => {
        const { res } = run(dopamine(5000, { concUnit: A("mcg"), concentration: { amount: 400000000, volumeUl: 250000 } }))
        expect(res.reasons[0]).toBe("concentration unit mismatch: Dopamine is in mg/mL, entered mcg")
    })
    it("unknown drug points to the basic infusion; unknown care area refused", () => {
        expect(run(req("ICU", "Alteplase", "mg/h", 1000)).res.reasons[0]).toBe("'Alteplase' is not in the ICU library; use Basic infusion (mL/h)")
        expect(run(dopamine(5000, { careArea: "NICU" })).res.reasons[0]).toBe("unknown care area 'NICU'")
    })
    it("bolus where the library allows none", () => {
        expect(run(dopamine(5000, { bolusDose: 1000, bolusDurationS: 60 })).res.reasons[0]).toBe("bolus is not allowed for Dopamine in this care area")
    })
    it("a dose inside the library limits but below the pump's 0.1 mL/h is refused, not clamped", () => {
        const { res } = run(req("ICU", "Insulin", "units/h", 50, { concUnit: A("units"), concentration: { amount: 100000, volumeUl: 100000 }, confirmed: ["dose"] }))
        expect(res.reasons[0]).toBe("dose gives 0.050 mL/h, outside the pump range 0.100..1200.000 mL/h")
    })
    it("non-integer or negative inputs are refused", () => {
        expect(run(dopamine(5000.5)).res.status).toBe("refused")
        expect(run(dopamine(-5)).res.status).toBe("refused")
        expect(run(dopamine(5000, { weightG: 70000.5 })).res.status).toBe("refused")
        expect(run(dopamine(5000, { concentration: { amount: NaN, volumeUl: 1000 } })).res.status).toBe("refused")
    })
    it("no library installed", () => {
        const log = new EventLog(4)
        expect(programDose(null as any, dopamine(5000), log, 0).reasons).toEqual(["no drug library is installed"])
    })
})

describe("conversion property (independent BigInt formula)", () => {
    it("any dopamine dose/weight/custom concentration inside the hard limits gives round-half-up of D*60*W*V/(A*1000) uL/h", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 1000, max: 20000 }), // dose, thousandths of mcg/kg/min
                fc.integer({ min: 30000, max: 250000 }), // weight g
                fc.integer({ min: 1, max: 50000 }), // volume uL
                fc.integer({ min: 500, max: 6400 }), // concentration, thousandths of mg per mL
                (d, w, v, perMl) => {
                    const a = Math.max(1, Math.round((perMl * v) / 1000)) // amount thousandths of mg in v uL
                    if (a * 1000 < 500 * v || a * 1000 > 6400 * v) return true // outside custom hard limits
                    const { res } = run(dopamine(d, { weightG: w, concentration: { amount: a, volumeUl: v }, confirmed: ["dose", "weight", "concentration"] }))
                    // uL/h = (d/1000 mcg/kg/min)(w/1000 kg)(60)/(a/1000 mg * 1000 mcg/mg / v uL) = d*w*60*v / (a*1e6)... * 1e3/1e3
                    const num = BigInt(d) * BigInt(w) * 60n * BigInt(v)
                    const den = BigInt(a) * 1000000n
                    const q = num / den
                    const want = Number(2n * (num - q * den) >= den ? q + 1n : q)
                    if (want < 100 || want > 1200000) return res.status === "refused"
                    return res.status === "ok" && res.program.rateUlPerH === want
                }
            ),
            { numRuns: 1500 }
        )
    })
})

describe("override log units (a dose in g is not a weight in g)", () => {
    const sampleLib = compileFile(new URL("../../docs/sample-drug-library.json", import.meta.url).pathname).library!
    it("a confirmed 5 g magnesium loading dose above the 4 g soft maximum is logged as 5.000 g, not 5000 g", () => {
        const r = req("ICU", "Magnesium sulfate", "g/h", 1000, {
            concUnit: A("g"),
            concentration: { amount: 20000, volumeUl: 500000 },
            loadingDose: 5000,
            loadingDurationS: 1200,
            confirmed: ["loading"],
        })
        const log = new EventLog(10)
        const res = programDose(sampleLib, r, log, 0)
        expect(res.status).toBe("ok")
        expect(res.soft[0].thousandths).toBe(true)
        expect(log.ofKind("DERS_OVERRIDE")[0].detail).toBe("area=ICU drug=Magnesium sulfate loading=5.000 g beyond softMax 4.000 g (confirmed)")
    })
    it("a confirmed weight above its soft maximum stays whole grams", () => {
        const { res, log } = run(dopamine(5000, { weightG: 160000, confirmed: ["weight"] }))
        expect(res.soft[0].thousandths).toBe(false)
        expect(log.ofKind("DERS_OVERRIDE")[0].detail).toMatch(/weight=160000 g beyond softMax \d+ g/)
    })
})
