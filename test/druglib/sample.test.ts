import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { emptyRequest, programDose } from "../../src/core/druglib/dosing"
import { isPerKg, unitName } from "../../src/core/druglib/doseUnits"
import { NONE } from "../../src/core/druglib/model"
import { decodeEntry } from "../../src/core/druglib/parse"
import { compileFile } from "../../tools/druglib/compile"

const lib = compileFile(new URL("../../docs/sample-drug-library.json", import.meta.url).pathname).library!

describe("sample library is usable as written", () => {
    it("every entry's default dose programs without any override at a typical weight (70 kg adult, 20 kg child)", () => {
        const log = new EventLog(1000)
        const problems: string[] = []
        for (const a of lib.careAreas) {
            for (let i = 0; i < a.drugs.length; i++) {
                const e = decodeEntry(lib, a, i)!
                expect(e.defaultDose, a.name + "/" + e.drug + " has a default dose").not.toBe(NONE)
                for (const c of e.concentrations) {
                    const r = emptyRequest()
                    r.careArea = a.name
                    r.drug = e.drug
                    r.doseUnit = e.doseUnit
                    r.dose = e.defaultDose
                    r.concUnit = e.concUnit
                    r.concentration = c
                    r.weightG = isPerKg(e.doseUnit) ? (a.name === "Pediatrics" ? 20000 : 70000) : NONE
                    r.syringeId = "bd-plastipak-50"
                    r.vtbiUl = 20000
                    const res = programDose(lib, r, log, 0)
                    if (res.status !== "ok") problems.push(a.name + "/" + e.drug + " " + unitName(e.doseUnit) + ": " + res.status + " " + res.reasons.join("; ") + res.soft.map(s => s.field).join(","))
                }
            }
        }
        expect(problems).toEqual([])
    })
})
