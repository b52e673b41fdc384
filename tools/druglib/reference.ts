// Plausibility of a library's limits (issue 13 item 5, REQ-DERS-016):
//  1. every dose limit is compared with a reference range for the drug and unit family; a limit
//     more than REFERENCE_FACTOR times outside it is refused unless the entry carries a named
//     pharmacist's acknowledgement (referenceAck), which is then reported, never silent;
//  2. a dose range that no syringe concentration can deliver at any weight within the pump's
//     0.1..1200 mL/h is refused (a unit slip such as mg/kg/min for mcg/kg/min).
// The table is data (referenceRanges.json, with sources); the rule does not depend on its figures.

import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { amountFactor, amountFamily, amountOf, isPerKg, isPerMin, parseUnit } from "../../src/core/druglib/doseUnits"
import { MAX_RATE_UL_PER_H, MIN_RATE_UL_PER_H } from "../../src/core/program"

export const REFERENCE_FACTOR = 10

export interface ReferenceRange {
    drug: string
    doseUnit: string
    /** null: no lower reference (only the maximum is checked). */
    min: number | null
    max: number
    source: string
    placeholder: boolean
}

export interface Finding {
    path: string
    message: string
}

export interface PlausibilityResult {
    errors: Finding[]
    /** Accepted with an acknowledgement, or not checkable (no reference): reported, not refused. */
    warnings: Finding[]
}

const tablePath = fileURLToPath(new URL("./referenceRanges.json", import.meta.url))

export function shippedReferenceTable(): ReferenceRange[] {
    return JSON.parse(readFileSync(tablePath, "utf8")).ranges
}

/** Factor that converts a value in `from` into `to` (same family, same per-kg), or NaN. */
export function unitFactor(from: string, to: string): number {
    const a = parseUnit(from, true)
    const b = parseUnit(to, true)
    if (a < 0 || b < 0 || isPerKg(a) !== isPerKg(b)) return NaN
    if (amountFamily(amountOf(a)) !== amountFamily(amountOf(b)) || amountFactor(amountOf(a)) === 0 || amountFactor(amountOf(b)) === 0) return NaN
    const perH = (c: number) => (isPerMin(c) ? 60 : 1)
    return (amountFactor(amountOf(a)) * perH(a)) / (amountFactor(amountOf(b)) * perH(b))
}

function ackProblem(ack: any): string {
    if (!ack) return "no referenceAck"
    if (typeof ack.pharmacist !== "string" || ack.pharmacist.trim().length < 3) return "referenceAck needs the pharmacist's name"
    if (typeof ack.reason !== "string" || ack.reason.trim().length < 10) return "referenceAck needs a reason"
    if (typeof ack.date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(ack.date)) return "referenceAck needs a date yyyy-mm-dd"
    return ""
}

/** Checks the limits of a schema-valid source document. */
export function checkPlausibility(doc: any, table: ReferenceRange[]): PlausibilityResult {
    const res: PlausibilityResult = { errors: [], warnings: [] }
    ;(doc.careAreas ?? []).forEach((a: any, ai: number) =>
        (a.entries ?? []).forEach((e: any, ei: number) => {
            const path = "/careAreas/" + ai + "/entries/" + ei
            checkReference(res, path, e, table)
            checkDeliverable(res, path, e)
        })
    )
    return res
}

function checkReference(res: PlausibilityResult, path: string, e: any, table: ReferenceRange[]) {
    if (e.doseUnit === "mL/h") return
    const name = String(e.drug).trim().toLowerCase()
    const rows = table.filter(r => r.drug.toLowerCase() === name)
    let ref: ReferenceRange | null = null
    let f = NaN
    for (const r of rows) {
        const k = unitFactor(e.doseUnit, r.doseUnit)
        if (!Number.isNaN(k)) {
            ref = r
            f = k
            break
        }
    }
    if (!ref) {
        res.warnings.push({ path: path + "/dose", message: "no reference range for " + e.drug + " in " + e.doseUnit + ": limits not checked against a reference" })
        return
    }
    const outside: string[] = []
    for (const k of ["hardMin", "softMin", "softMax", "hardMax", "default"]) {
        const v = e.dose?.[k]
        if (typeof v !== "number") continue
        const inRef = v * f
        const hi = ref.max * REFERENCE_FACTOR
        const lo = ref.min === null ? null : ref.min / REFERENCE_FACTOR
        if (inRef > hi || (lo !== null && inRef < lo))
            outside.push(k + " " + v + " " + e.doseUnit + " is " + (inRef > hi ? "more than " + REFERENCE_FACTOR + "x above" : "more than " + REFERENCE_FACTOR + "x below") +
                " the reference " + (ref.min ?? "") + (ref.min === null ? "up to " : "-") + ref.max + " " + ref.doseUnit + (ref.placeholder ? " (placeholder figure)" : ""))
    }
    if (outside.length === 0) return
    const ack = ackProblem(e.referenceAck)
    for (const o of outside) {
        if (ack === "") res.warnings.push({ path: path + "/dose", message: o + "; accepted by pharmacist " + e.referenceAck.pharmacist + " (" + e.referenceAck.date + "): " + e.referenceAck.reason })
        else res.errors.push({ path: path + "/dose", message: o + " (implausible: check the unit and value, or record a pharmacist's referenceAck)" })
    }
}

/** mL/h needed for `dose` (in the entry's unit) at `weightKg` with `concPerMl` (concentration unit per mL). */
function rateMlPerH(doseUnit: string, dose: number, weightKg: number, concUnit: string, concPerMl: number): number {
    const d = parseUnit(doseUnit, true)
    const c = parseUnit(concUnit, false)
    if (d < 0 || c < 0 || amountFactor(amountOf(c)) === 0) return NaN
    const perH = isPerMin(d) ? 60 : 1
    const w = isPerKg(d) ? weightKg : 1
    return (dose * w * perH * amountFactor(amountOf(d))) / amountFactor(amountOf(c)) / concPerMl
}

function checkDeliverable(res: PlausibilityResult, path: string, e: any) {
    const pumpMin = MIN_RATE_UL_PER_H / 1000
    const pumpMax = MAX_RATE_UL_PER_H / 1000
    const dMin = typeof e.dose?.hardMin === "number" ? e.dose.hardMin : 0
    const dMax = e.dose?.hardMax
    if (typeof dMax !== "number") return
    let lo: number
    let hi: number
    if (e.doseUnit === "mL/h") {
        lo = dMin
        hi = dMax
    } else {
        const c = e.concentration
        if (!c) return
        const concs: number[] = (c.standard ?? []).map((s: any) => s.amount / s.volumeMl)
        if (c.custom) concs.push(c.custom.hardMin, c.custom.hardMax)
        const ok = concs.filter(x => typeof x === "number" && x > 0)
        if (ok.length === 0) return
        const wMin = e.weightKg?.hardMin ?? 1
        const wMax = e.weightKg?.hardMax ?? 1
        lo = rateMlPerH(e.doseUnit, dMin, wMin, c.unit, Math.max(...ok))
        hi = rateMlPerH(e.doseUnit, dMax, wMax, c.unit, Math.min(...ok))
        if (Number.isNaN(lo) || Number.isNaN(hi)) return
    }
    if (hi < pumpMin || lo > pumpMax)
        res.errors.push({
            path: path + "/dose",
            message: "no dose in " + dMin + ".." + dMax + " " + e.doseUnit + " can be delivered: it needs " + fmt(lo) + ".." + fmt(hi) +
                " mL/h with the listed concentrations and weights, the pump runs " + pumpMin + ".." + pumpMax + " mL/h (unit slip?)",
        })
}

function fmt(x: number): string {
    return x >= 100 ? String(Math.round(x)) : String(Number(x.toPrecision(3)))
}
