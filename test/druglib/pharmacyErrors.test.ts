// Issue 13 items 4-6: pharmacy errors the compiler must catch (REQ-DERS-014..017).
import { describe, expect, it } from "vitest"
import { compileSource, compileText } from "../../tools/druglib/compile"
import { ReferenceRange, shippedReferenceTable, unitFactor } from "../../tools/druglib/reference"
import { nameSkeleton } from "../../tools/druglib/names"
import { testSource } from "./fixture"

const messages = (r: { errors: { path: string; message: string }[] }) => r.errors.map(e => e.path + ": " + e.message)

describe("look-alike drug names (REQ-DERS-014)", () => {
    for (const lookAlike of ["HEPARIN", "Heparin ", "Hepar1n", "HeparIn", "Hepar in"]) {
        it(`'${lookAlike}' beside 'Heparin' in one care area is refused`, () => {
            const src = testSource()
            const copy = JSON.parse(JSON.stringify(src.careAreas[0].entries[1]))
            copy.drug = lookAlike
            src.careAreas[0].entries.push(copy)
            const r = compileSource(src)
            expect(r.bytes).toBeNull()
            expect(messages(r).join("\n")).toMatch(/\/careAreas\/0\/entries\/4\/drug: .*(looks like 'Heparin'|space)/)
        })
    }

    it("rn/m and 0/O look-alikes fold together; different drugs do not", () => {
        expect(nameSkeleton("Amiodarone")).toBe(nameSkeleton("Arniodar0ne"))
        expect(nameSkeleton("Dopamine")).not.toBe(nameSkeleton("Dobutamine"))
        const src = testSource()
        src.careAreas[0].entries.push({ ...JSON.parse(JSON.stringify(src.careAreas[0].entries[2])), drug: "Morphine" })
        src.careAreas[1].entries.push({ ...JSON.parse(JSON.stringify(src.careAreas[0].entries[2])), drug: "Morphine" })
        // The same name in another care area is fine; only within one area it is a duplicate.
        expect(messages(compileSource(src))).toEqual(["/careAreas/0/entries/4/drug: duplicate drug 'Morphine' in care area ICU"])
    })

    it("Tall Man lettering is an explicit field, checked and shown on the pump", () => {
        const src = testSource()
        src.careAreas[0].entries[0].tallMan = "DOPamine"
        const ok = compileSource(src)
        expect(ok.errors).toEqual([])
        expect(ok.library!.careAreas[0].drugs[0]).toBe("DOPamine")
        src.careAreas[0].entries[0].tallMan = "DOBUTamine"
        expect(messages(compileSource(src))).toEqual(["/careAreas/0/entries/0/tallMan: Tall Man form 'DOBUTamine' must be the drug name 'Dopamine' with only the letter case changed"])
        src.careAreas[0].entries[0].tallMan = "DOPAMINE"
        expect(messages(compileSource(src))[0]).toContain("needs a run of at least two capitals and some lower-case letters")
    })
})

describe("implausible limits (REQ-DERS-015, REQ-DERS-016)", () => {
    // The rule, with a table made up for the test: the check must not depend on the shipped figures.
    const table: ReferenceRange[] = [
        { drug: "Heparin", doseUnit: "units/kg/h", min: 10, max: 30, source: "test", placeholder: false },
        { drug: "Dopamine", doseUnit: "mcg/kg/min", min: 2, max: 20, source: "test", placeholder: false },
        { drug: "Morphine", doseUnit: "mg/h", min: 1, max: 10, source: "test", placeholder: true },
        { drug: "Insulin", doseUnit: "units/h", min: 0.5, max: 15, source: "test", placeholder: true },
        { drug: "Potassium chloride", doseUnit: "mEq/kg/h", min: null, max: 0.5, source: "test", placeholder: true },
    ]

    it("heparin with a hard maximum of 35,000 units/kg/h is refused (1000x the reference)", () => {
        const src = testSource()
        src.careAreas[0].entries[1].dose.hardMax = 35000
        const m = messages(compileSource(src, table))
        expect(m).toEqual([
            "/careAreas/0/entries/1/dose: hardMax 35000 units/kg/h is more than 10x above the reference 10-30 units/kg/h (implausible: check the unit and value, or record a pharmacist's referenceAck)",
        ])
    })

    it("exactly 10x the reference passes; just beyond 10x is refused; 10x below the minimum likewise", () => {
        const src = testSource()
        src.careAreas[0].entries[1].dose.hardMax = 300
        expect(compileSource(src, table).errors).toEqual([])
        src.careAreas[0].entries[1].dose.hardMax = 300.001
        expect(compileSource(src, table).errors).toHaveLength(1)
        const low = testSource()
        low.careAreas[0].entries[2].dose.softMin = 0.099 // morphine, reference from 1 mg/h
        expect(messages(compileSource(low, table))[0]).toContain("softMin 0.099 mg/h is more than 10x below the reference 1-10 mg/h (placeholder figure)")
    })

    it("the same limit in another unit of the family is converted before comparing (mg/kg/h vs mcg/kg/min)", () => {
        expect(unitFactor("mg/kg/h", "mcg/kg/min")).toBeCloseTo(1000 / 60, 12)
        expect(unitFactor("units/h", "units/kg/h")).toBeNaN()
    })

    it("a named pharmacist's acknowledgement lets it compile, and the compiler reports it", () => {
        const src = testSource()
        src.careAreas[0].entries[1].dose.hardMax = 35000
        src.careAreas[0].entries[1].referenceAck = { pharmacist: "A. Pharmacist", date: "2026-11-20", reason: "protocol HEP-7 high-dose study arm" }
        const r = compileSource(src, table)
        expect(r.errors).toEqual([])
        expect(r.warnings!.map(w => w.message)).toEqual([
            "hardMax 35000 units/kg/h is more than 10x above the reference 10-30 units/kg/h; accepted by pharmacist A. Pharmacist (2026-11-20): protocol HEP-7 high-dose study arm",
        ])
        // An anonymous acknowledgement is no acknowledgement.
        src.careAreas[0].entries[1].referenceAck = { pharmacist: "", date: "2026-11-20", reason: "protocol HEP-7 high-dose study arm" }
        expect(compileSource(src, table).errors.length).toBeGreaterThan(0)
    })

    it("dopamine limits entered in mg/kg/min are refused: nothing in range is deliverable at 0.1-1200 mL/h", () => {
        const src = testSource()
        src.careAreas[0].entries[0].doseUnit = "mg/kg/min"
        delete src.careAreas[0].entries[0].concentration.custom
        // 1 mg/kg/min x 30 kg at the strongest listed 200 mg/50 mL (4 mg/mL): 30 mg/min = 450 mL/h
        // at the low end; so raise the minimum weight to 100 kg: 1 x 100 x 60 / 4 = 1500 mL/h > 1200.
        // Top: 20 mg/kg/min x 250 kg x 60 at the weakest 400 mg/250 mL (1.6 mg/mL) = 187500 mL/h.
        src.careAreas[0].entries[0].weightKg = { hardMin: 100, hardMax: 250 }
        const none = compileSource(src, [])
        expect(messages(none)).toEqual([
            "/careAreas/0/entries/0/dose: no dose in 1..20 mg/kg/min can be delivered: it needs 1500..187500 mL/h with the listed concentrations and weights, the pump runs 0.1..1200 mL/h (unit slip?)",
        ])
        // With the reference table the unit slip is also >10x above the reference (mcg -> mg = 1000x).
        expect(messages(compileSource(src, table)).some(m => m.includes("more than 10x above the reference 2-20 mcg/kg/min"))).toBe(true)
    })

    it("the shipped table states a source for every row, marks placeholders, and passes the sample library", async () => {
        const rows = shippedReferenceTable()
        expect(rows.length).toBeGreaterThan(30)
        for (const r of rows) {
            expect(r.source.length, r.drug).toBeGreaterThan(10)
            expect(r.max).toBeGreaterThan(r.min ?? 0)
            if (r.placeholder) expect(r.source).toMatch(/PLACEHOLDER/)
            expect(unitFactor(r.doseUnit, r.doseUnit)).toBe(1)
        }
        const { readFileSync } = await import("node:fs")
        const r = compileText(readFileSync(new URL("../../docs/sample-drug-library.json", import.meta.url), "utf8"))
        expect(r.errors).toEqual([])
        expect(r.warnings).toEqual([])
    })
})

describe("duplicate JSON keys (REQ-DERS-017)", () => {
    it('"hardMax": 35, "hardMax": 3500 is refused with its path and line, not silently 3500', () => {
        const text = JSON.stringify(testSource(), null, 1).replace('"hardMax": 35,', '"hardMax": 35,\n "hardMax": 3500,')
        expect(JSON.parse(text).careAreas[0].entries[1].dose.hardMax).toBe(3500) // what JSON.parse alone does
        const r = compileText(text)
        expect(r.bytes).toBeNull()
        expect(r.errors).toHaveLength(1)
        expect(r.errors[0].path).toBe("/careAreas/0/entries/1/dose/hardMax")
        expect(r.errors[0].message).toMatch(/^duplicate key 'hardMax' \(line \d+\): JSON would silently keep the last value$/)
    })

    it("equal keys in different objects and keys inside strings are not duplicates", () => {
        const r = compileText(JSON.stringify({ ...testSource(), comment: 'he said "hardMax": 1, "hardMax": 2' }))
        expect(r.errors).toEqual([])
    })
})
