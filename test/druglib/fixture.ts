// Small test library (source JSON) with every limit kind, and request helpers.

import { compileSource } from "../../tools/druglib/compile"
import { parseUnit } from "../../src/core/druglib/doseUnits"
import { DoseRequest, emptyRequest } from "../../src/core/druglib/dosing"
import { DrugLibrary } from "../../src/core/druglib/model"

export function testSource(): any {
    return {
        name: "Test library",
        version: 7,
        date: "2026-11-01",
        basicInfusion: { rateMlPerH: { hardMin: 0.1, softMax: 200, hardMax: 500 } },
        careAreas: [
            {
                name: "ICU",
                entries: [
                    {
                        drug: "Dopamine",
                        doseUnit: "mcg/kg/min",
                        dose: { hardMin: 1, softMin: 2, softMax: 15, hardMax: 20, default: 5 },
                        weightKg: { hardMin: 30, softMin: 40, softMax: 150, hardMax: 250 },
                        concentration: {
                            unit: "mg",
                            standard: [{ amount: 400, volumeMl: 250 }, { amount: 200, volumeMl: 50 }],
                            custom: { hardMin: 0.5, softMin: 0.8, softMax: 3.2, hardMax: 6.4 },
                        },
                        kvoMlPerH: 0.5,
                    },
                    {
                        drug: "Heparin",
                        doseUnit: "units/kg/h",
                        dose: { softMin: 5, softMax: 25, hardMax: 35, default: 18 },
                        weightKg: { hardMin: 30, softMin: 40, softMax: 150, hardMax: 250 },
                        concentration: { unit: "units", standard: [{ amount: 25000, volumeMl: 50 }] },
                        bolus: { unit: "units/kg", dose: { softMin: 20, softMax: 80, hardMax: 100, default: 40 }, durationS: { hardMin: 30, softMin: 60, softMax: 300, hardMax: 600, default: 60 } },
                        loading: { unit: "units/kg", dose: { softMax: 80, hardMax: 100 }, durationS: { hardMin: 30, softMin: 60, softMax: 300, hardMax: 600 } },
                        kvoMlPerH: 0.5,
                    },
                    {
                        drug: "Morphine",
                        doseUnit: "mg/h",
                        dose: { softMin: 1, softMax: 10, hardMax: 15 },
                        concentration: { unit: "mg", standard: [{ amount: 50, volumeMl: 50 }, { amount: 100, volumeMl: 50 }] },
                        bolus: { unit: "mg", dose: { softMax: 2, hardMax: 5 }, durationS: { hardMin: 60, hardMax: 600 } },
                        maxDose: { unit: "mg", amount: 50, windowMin: 240 },
                        kvoMlPerH: 0.5,
                    },
                    {
                        drug: "Insulin",
                        doseUnit: "units/h",
                        dose: { softMin: 0.5, softMax: 15, hardMax: 30 },
                        concentration: { unit: "units", standard: [{ amount: 100, volumeMl: 100 }] },
                    },
                ],
            },
            {
                name: "Pediatrics",
                basicInfusion: { rateMlPerH: { hardMin: 0.1, softMax: 60, hardMax: 120 } },
                entries: [
                    {
                        drug: "Potassium chloride",
                        doseUnit: "mEq/kg/h",
                        dose: { softMax: 0.3, hardMax: 0.5 },
                        weightKg: { hardMin: 0.4, hardMax: 120 },
                        concentration: { unit: "mEq", standard: [{ amount: 10, volumeMl: 50 }] },
                        maxDose: { unit: "mEq/kg", amount: 1, windowMin: 240 },
                    },
                ],
            },
        ],
    }
}

export function compileTest(src: any = testSource()): { lib: DrugLibrary; bytes: Buffer } {
    const r = compileSource(src)
    if (r.errors.length > 0) throw new Error(JSON.stringify(r.errors))
    return { lib: r.library!, bytes: r.bytes! }
}

export const U = (s: string) => {
    const c = parseUnit(s, s.includes("/h") || s.includes("/min"))
    if (c < 0) throw new Error("bad unit " + s)
    return c
}
export const A = (s: string) => parseUnit(s, false)

export function req(area: string, drug: string, unit: string, dose: number, extra: Partial<DoseRequest> = {}): DoseRequest {
    const r = emptyRequest()
    r.careArea = area
    r.drug = drug
    r.doseUnit = U(unit)
    r.dose = dose
    r.syringeId = "bd-plastipak-50"
    r.vtbiUl = 50000
    Object.assign(r, extra)
    return r
}

export function dopamine(dose: number, extra: Partial<DoseRequest> = {}) {
    return req("ICU", "Dopamine", "mcg/kg/min", dose, { concUnit: A("mg"), concentration: { amount: 400000, volumeUl: 250000 }, weightG: 70000, ...extra })
}

export function heparin(dose: number, extra: Partial<DoseRequest> = {}) {
    return req("ICU", "Heparin", "units/kg/h", dose, { concUnit: A("units"), concentration: { amount: 25000000, volumeUl: 50000 }, weightG: 80000, ...extra })
}

export function morphine(dose: number, extra: Partial<DoseRequest> = {}) {
    return req("ICU", "Morphine", "mg/h", dose, { concUnit: A("mg"), concentration: { amount: 50000, volumeUl: 50000 }, ...extra })
}
