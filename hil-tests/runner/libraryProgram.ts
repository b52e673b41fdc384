// Scenarios that program through the drug library: "drug, concentration, dose in the drug's unit,
// weight (and height for per-m² dosing)" instead of raw µL/h. The selection is resolved on the
// host by the REAL library code (tools/druglib/compile.ts compiles the library source to the
// compact bytes the firmware holds; src/core/druglib/dosing.ts programDose checks every limit and
// converts to µL/h), exactly as the pump's programming flow calls it. What the library returns
// (program, loading dose, and the concentration, the entry's dose window and the scenario's
// lockout and standby) is then applied to the pump by `applyPumpSetup` (host) or by the same
// calls generated into the HIL entry (`setupSource`, bytecode backends): the firmware image does
// not carry the library code for the rig (the image budget), so on sim and vclock the library
// check itself runs on the host and the firmware receives its exact result.

import { resolve } from "node:path"
import { EventLog } from "../../src/core/eventLog"
import { copyRequest, emptyRequest, findArea, findEntry, programDose, pushPatientFactors } from "../../src/core/druglib/dosing"
import { amountFactor, amountOf, parseUnit, unitName } from "../../src/core/druglib/doseUnits"
import { compareProducts, ratioRound } from "../../src/core/druglib/exact"
import { DrugLibrary, NONE } from "../../src/core/druglib/model"
import type { InfusionProgram } from "../../src/core/program"
import type { CommandResult, PumpController } from "../../src/core/pump"
import { compileFile } from "../../tools/druglib/compile"

/** The scenario file's `program` when it names a drug (scenario.schema.json, libraryProgram). */
export interface LibrarySelection {
    /** Library source (JSON), relative to the repository root; default the sample library. */
    library?: string
    careArea: string
    drug: string
    /** The unit the dose is entered in, e.g. "mcg/kg/min" (must be the library's: no guessing). */
    doseUnit: string
    dose: number
    concentration?: { amount: number; unit: string; volumeMl: number }
    weightKg?: number
    heightCm?: number
    syringeId: string
    vtbiMl: number
    bolus?: { dose: number; durationS: number }
    loading?: { dose: number; durationS: number }
    /** Soft-limit excursions the clinician confirms ("dose", "weight", "bolus", ...). */
    confirm?: string[]
    /** Apply the entry's maximum-dose window (maxDose) as the pump's run-time limit. */
    applyDoseWindow?: boolean
    /** PCA lockout between boluses (s). The compact library has no lockout field yet, so the
     *  scenario states it (docs/drug-library.md). */
    bolusLockoutS?: number
    /** Standby after programming: start by itself (autoStart) or remind, `untilS` after load. */
    standby?: { untilS: number; autoStart: boolean }
}

/** What the pump is told after loadProgram, in the order the calls are made. */
export interface PumpSetup {
    concentration?: { amountUnit: number; amountThousandths: number; volumeUl: number }
    loading?: { ul: number; durationS: number }
    doseLimits: { windowMin: number; maxThousandths: number }[]
    bolusLockoutMs: number
    standby?: { inMs: number; autoStart: boolean }
}

export interface ResolvedProgram {
    /** The library's program; null when the library refused the selection. */
    program: InfusionProgram | null
    setup: PumpSetup
    /** The library's refusal (or the confirmations it still needs); "" when accepted. */
    refusal: string
    /** One line for logs and reports: what the library made of the selection. */
    summary: string
}

export const DEFAULT_LIBRARY = "docs/sample-drug-library.json"
const ROOT = resolve(new URL("../..", import.meta.url).pathname)

const cache = new Map<string, DrugLibrary>()

export function loadLibrary(path: string): DrugLibrary {
    const full = resolve(ROOT, path)
    const hit = cache.get(full)
    if (hit) return hit
    const r = compileFile(full)
    if (!r.library) throw new Error("drug library " + path + " does not compile: " + r.errors.map(e => e.path + " " + e.message).join("; "))
    cache.set(full, r.library)
    return r.library
}

/** A decimal figure from the scenario file as whole thousandths; throws if it has more digits. */
function thousandths(what: string, v: number): number {
    const t = Math.round(v * 1000)
    if (!Number.isFinite(v) || Math.abs(t - v * 1000) > 1e-6) throw new Error(what + " " + v + " has more than 3 decimals")
    return t
}

function unitCode(what: string, text: string, rate: boolean): number {
    const c = parseUnit(text, rate)
    if (c < 0) throw new Error(what + ": unknown unit '" + text + "'")
    return c
}

/** Resolves a selection through the library. A malformed selection (unknown unit, unknown
 *  library file) throws: that is a broken scenario, not a refusal to test. */
export function resolveLibraryProgram(sel: LibrarySelection): ResolvedProgram {
    const lib = loadLibrary(sel.library ?? DEFAULT_LIBRARY)
    const req = emptyRequest()
    req.careArea = sel.careArea
    req.drug = sel.drug
    req.doseUnit = unitCode("doseUnit", sel.doseUnit, true)
    req.dose = thousandths("dose", sel.dose)
    if (sel.concentration) {
        req.concUnit = unitCode("concentration.unit", sel.concentration.unit, false)
        req.concentration = { amount: thousandths("concentration.amount", sel.concentration.amount), volumeUl: thousandths("concentration.volumeMl", sel.concentration.volumeMl) }
    }
    req.weightG = sel.weightKg !== undefined ? thousandths("weightKg", sel.weightKg) : NONE
    req.heightMm = sel.heightCm !== undefined ? Math.round(sel.heightCm * 10) : NONE
    req.syringeId = sel.syringeId
    req.vtbiUl = thousandths("vtbiMl", sel.vtbiMl)
    if (sel.bolus) {
        req.bolusDose = thousandths("bolus.dose", sel.bolus.dose)
        req.bolusDurationS = sel.bolus.durationS
    }
    if (sel.loading) {
        req.loadingDose = thousandths("loading.dose", sel.loading.dose)
        req.loadingDurationS = sel.loading.durationS
    }
    req.confirmed = sel.confirm ?? []
    const log = new EventLog(16)
    const res = programDose(lib, copyRequest(req), log, 0)
    const setup: PumpSetup = { doseLimits: [], bolusLockoutMs: sel.bolusLockoutS ? Math.round(sel.bolusLockoutS * 1000) : 0 }
    if (res.status !== "ok") {
        const why = res.status === "confirm" ? "needs confirmation of " + res.soft.map(s => s.field + " " + s.bound).join(", ") : res.reasons.join("; ")
        return { program: null, setup, refusal: "drug library: " + why, summary: sel.careArea + "/" + sel.drug + " refused by the library: " + why }
    }
    const area = findArea(lib, sel.careArea)!
    const entry = findEntry(lib, area, sel.drug)
    if (req.concentration && entry) {
        setup.concentration = { amountUnit: entry.concUnit, amountThousandths: req.concentration.amount, volumeUl: req.concentration.volumeUl }
    }
    if (res.loadingUl > 0) setup.loading = { ul: res.loadingUl, durationS: res.loadingDurationS }
    if (sel.applyDoseWindow) {
        if (!entry || !entry.window) throw new Error(sel.careArea + "/" + sel.drug + " has no maxDose window in the library")
        if (!setup.concentration) throw new Error("applyDoseWindow needs a concentration")
        setup.doseLimits.push({ windowMin: entry.window.minutes, maxThousandths: windowInConcUnit(entry.window.unit, entry.window.maxAmount, entry.concUnit, req.weightG, res.bsaThousandthsM2) })
    }
    if (sel.standby) setup.standby = { inMs: Math.round(sel.standby.untilS * 1000), autoStart: sel.standby.autoStart }
    const p = res.program
    const summary =
        sel.careArea + "/" + sel.drug + " " + sel.dose + " " + sel.doseUnit + " -> " + p.rateUlPerH + " µL/h" +
        (res.bsaThousandthsM2 > 0 ? " (BSA " + res.bsaThousandthsM2 / 1000 + " m², Mosteller)" : "") +
        (setup.loading ? ", loading " + setup.loading.ul + " µL over " + setup.loading.durationS + " s" : "") +
        (p.bolusUl > 0 ? ", bolus " + p.bolusUl + " µL over " + p.bolusDurationS + " s" : "") +
        setup.doseLimits.map(l => ", max " + l.maxThousandths / 1000 + " " + unitName(entry!.concUnit) + " per " + l.windowMin + " min").join("") +
        (setup.bolusLockoutMs > 0 ? ", lockout " + setup.bolusLockoutMs / 1000 + " s" : "") +
        (setup.standby ? ", standby " + setup.standby.inMs / 1000 + " s (" + (setup.standby.autoStart ? "delayed start" : "reminder") + ")" : "")
    return { program: p, setup, refusal: "", summary }
}

/** The entry's window maximum (thousandths of `unit`, per kg or per m² if it says so) in
 *  thousandths of the concentration's amount unit for this patient, rounded DOWN (a limit is
 *  never widened by rounding). */
export function windowInConcUnit(unit: number, maxAmount: number, concUnit: number, weightG: number, bsaThousandthsM2: number): number {
    const num = [maxAmount, amountFactor(amountOf(unit))]
    const den = [amountFactor(concUnit)]
    pushPatientFactors(unit, num, den, weightG, bsaThousandthsM2)
    const r = ratioRound(num, den)
    // ratioRound rounds to the nearest; step down when that was up (value x den > num).
    return compareProducts([r.value, ...den], num) > 0 ? r.value - 1 : r.value
}

/** Applies the setup to a pump that has just loaded the program (host backend). The first
 *  refusal stops it and is returned, as the firmware does with the generated calls. */
export function applyPumpSetup(pump: PumpController, nowMs: number, s: PumpSetup): CommandResult {
    let r: CommandResult = { ok: true, reason: "" }
    if (s.concentration) r = pump.setConcentration(nowMs, s.concentration.amountUnit, s.concentration.amountThousandths, s.concentration.volumeUl)
    if (r.ok && s.loading) r = pump.setLoadingDose(nowMs, s.loading.ul, s.loading.durationS)
    for (const l of s.doseLimits) if (r.ok) r = pump.setDoseLimit(nowMs, l.windowMin, l.maxThousandths)
    if (r.ok && s.bolusLockoutMs > 0) r = pump.setBolusLockout(nowMs, s.bolusLockoutMs)
    if (r.ok && s.standby) r = pump.standby(nowMs, nowMs + s.standby.inMs, s.standby.autoStart)
    return r
}

/** True when the setup asks the pump for anything beyond the program. */
export function hasSetup(s: PumpSetup | undefined): boolean {
    return !!s && (!!s.concentration || !!s.loading || s.doseLimits.length > 0 || s.bolusLockoutMs > 0 || !!s.standby)
}

/** The same calls as applyPumpSetup, as DeviceScript source for the generated HIL entry: an
 *  arrow `(p, t) => CommandResult` passed to runHil (src/firmware/hilRun.ts). Only scenarios
 *  that need it carry it, so the shipping HIL image does not grow. */
export function setupSource(s: PumpSetup): string {
    const calls: string[] = []
    if (s.concentration) calls.push("p.setConcentration(t, " + s.concentration.amountUnit + ", " + s.concentration.amountThousandths + ", " + s.concentration.volumeUl + ")")
    if (s.loading) calls.push("p.setLoadingDose(t, " + s.loading.ul + ", " + s.loading.durationS + ")")
    for (const l of s.doseLimits) calls.push("p.setDoseLimit(t, " + l.windowMin + ", " + l.maxThousandths + ")")
    if (s.bolusLockoutMs > 0) calls.push("p.setBolusLockout(t, " + s.bolusLockoutMs + ")")
    if (s.standby) calls.push("p.standby(t, t + " + s.standby.inMs + ", " + (s.standby.autoStart ? "true" : "false") + ")")
    let body = "let r: CommandResult = { ok: true, reason: \"\" }\n"
    for (const c of calls) body += "    if (r.ok) r = " + c + "\n"
    return "(p: PumpController, t: number) => {\n    " + body + "    return r\n}"
}
