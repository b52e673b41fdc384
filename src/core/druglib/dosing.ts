// Dose error reduction: turns "care area + drug + concentration + dose (+ weight)" into an
// InfusionProgram, refusing anything beyond a hard limit and holding anything beyond a soft limit
// until the clinician confirms that exact excursion, which is then logged with limit and value.
//
// Conversion to µL/h is exact integer arithmetic (exact.ts); the only rounding is the final one to
// the nearest µL/h (or µL for bolus and loading volumes), halves up.

import { EventKind } from "../eventKinds"
import { EventSink } from "../eventLog"
import { InfusionProgram, MAX_RATE_UL_PER_H, MIN_RATE_UL_PER_H, syringeRateProblem, validateProgram } from "../program"
import { findSyringe, REFERENCE_MECHANICS } from "../syringe"
import { formatThousandths, isWholeNumber } from "../units"
import { AMT_ML, amountFactor, amountOf, isPerKg, isPerM2, isPerMin, unitName } from "./doseUnits"
import { checkBsa } from "./bsa"
import { compareProducts, ratioRound } from "./exact"
import { CareArea, Concentration, DoseSpec, DrugEntry, DrugLibrary, Limits, NONE, noLimits } from "./model"
import { decodeEntry } from "./parse"

/** Drug name that selects the care area's basic infusion (mL/h only, global flow limits). */
export const BASIC_INFUSION = "Basic infusion"

export interface DoseRequest {
    careArea: string
    drug: string
    /** Unit code the dose was entered in; must equal the entry's unit (no unit guessing). */
    doseUnit: number
    /** Dose in thousandths of doseUnit (for mL/h: µL/h). */
    dose: number
    /** Amount unit code of the concentration on the syringe label. */
    concUnit: number
    /** Concentration on the syringe label; null for mL/h entries. */
    concentration: Concentration
    /** Patient weight in g; NONE when not entered. */
    weightG: number
    /** Patient height in mm, for per-m² dosing (BSA by Mosteller, bsa.ts); NONE when not entered. */
    heightMm: number
    syringeId: string
    vtbiUl: number
    /** Bolus in thousandths of the entry's bolus unit; NONE or 0 for none. */
    bolusDose: number
    bolusDurationS: number
    loadingDose: number
    loadingDurationS: number
    /** Fields whose soft-limit excursion the clinician confirmed ("dose", "weight", ...). */
    confirmed: string[]
}

export interface SoftExcursion {
    field: string
    bound: string
    limit: number
    value: number
    unit: string
}

export interface DoseResult {
    /** "ok": program ready; "confirm": soft excursions need confirmation; "refused": see reasons. */
    status: string
    reasons: string[]
    soft: SoftExcursion[]
    program: InfusionProgram
    /** True when the dose converted to µL/h without rounding. */
    rateExact: boolean
    /** Loading dose as a separate first phase (µL over s); 0 when none. */
    loadingUl: number
    loadingDurationS: number
    /** Body surface area used (thousandths of m², Mosteller); -1 when the entry is not per m². */
    bsaThousandthsM2: number
}

/** A request with every optional part empty; callers fill in what the clinician entered. */
export function emptyRequest(): DoseRequest {
    return {
        careArea: "",
        drug: "",
        doseUnit: -1,
        dose: NONE,
        concUnit: -1,
        concentration: null,
        weightG: NONE,
        heightMm: NONE,
        syringeId: "",
        vtbiUl: 0,
        bolusDose: NONE,
        bolusDurationS: NONE,
        loadingDose: NONE,
        loadingDurationS: NONE,
        confirmed: [],
    }
}

export function copyRequest(r: DoseRequest): DoseRequest {
    const c = emptyRequest()
    c.careArea = r.careArea
    c.drug = r.drug
    c.doseUnit = r.doseUnit
    c.dose = r.dose
    c.concUnit = r.concUnit
    c.concentration = r.concentration
    c.weightG = r.weightG
    c.heightMm = r.heightMm
    c.syringeId = r.syringeId
    c.vtbiUl = r.vtbiUl
    c.bolusDose = r.bolusDose
    c.bolusDurationS = r.bolusDurationS
    c.loadingDose = r.loadingDose
    c.loadingDurationS = r.loadingDurationS
    c.confirmed = r.confirmed
    return c
}

export function findArea(lib: DrugLibrary, name: string): CareArea {
    if (!lib) return null
    for (let i = 0; i < lib.careAreas.length; i++) if (lib.careAreas[i].name === name) return lib.careAreas[i]
    return null
}

export function findEntry(lib: DrugLibrary, area: CareArea, drug: string): DrugEntry {
    for (let i = 0; i < area.drugs.length; i++) if (area.drugs[i] === drug) return decodeEntry(lib, area, i)
    return null
}

/** The synthetic entry for a drug not in the library: mL/h only, the area's flow limits. */
export function basicEntry(area: CareArea): DrugEntry {
    return {
        drug: BASIC_INFUSION,
        doseUnit: AMT_ML | 0x40,
        dose: area.basicRateUlPerH,
        defaultDose: NONE,
        weightG: noLimits(),
        concUnit: AMT_ML,
        concentrations: [],
        customConc: noLimits(),
        bolus: null,
        loading: null,
        window: null,
        kvoUlPerH: 0,
    }
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class Checker {
    reasons: string[] = []
    soft: SoftExcursion[] = []
    /** BSA in thousandths of m² once height and weight passed their checks; -1 otherwise. */
    bsa = -1

    refuse(reason: string) {
        this.reasons.push(reason)
    }

    /** Hard bounds refuse; soft bounds record an excursion. Bounds are inclusive. */
    limits(field: string, value: number, l: Limits, unit: string, scale: string) {
        if (l.hardMin !== NONE && value < l.hardMin) {
            this.refuse(field + " " + show(value, scale) + " " + unit + " is below the hard minimum " + show(l.hardMin, scale) + " " + unit)
            return
        }
        if (l.hardMax !== NONE && value > l.hardMax) {
            this.refuse(field + " " + show(value, scale) + " " + unit + " is above the hard maximum " + show(l.hardMax, scale) + " " + unit)
            return
        }
        if (l.softMin !== NONE && value < l.softMin)
            this.soft.push({ field: field, bound: "softMin", limit: l.softMin, value: value, unit: unit })
        else if (l.softMax !== NONE && value > l.softMax)
            this.soft.push({ field: field, bound: "softMax", limit: l.softMax, value: value, unit: unit })
    }
}

function show(v: number, scale: string): string {
    return scale === "thousandths" ? formatThousandths(v) : "" + v
}

function positiveWhole(v: number): boolean {
    return isWholeNumber(v) && v > 0
}

/** The patient factors of a per-kg or per-m² unit, pushed onto a ratio (num / den): weight in g
 *  (/1000 for kg) and BSA in thousandths of m² (/1000). The one place for this scaling. */
export function pushPatientFactors(unit: number, num: number[], den: number[], weightG: number, bsaThousandthsM2: number) {
    if (isPerKg(unit)) {
        num.push(weightG)
        den.push(1000)
    }
    if (isPerM2(unit)) {
        num.push(bsaThousandthsM2)
        den.push(1000)
    }
}

/** µL/h for a continuous dose; -1 if not computable exactly (refused by the caller). A per-m²
 *  unit needs `bsaThousandthsM2` (BSA in thousandths of m²); without one it is -1. */
export function doseToRateUlPerH(doseUnit: number, dose: number, weightG: number, concUnit: number, c: Concentration, bsaThousandthsM2?: number) {
    if (amountOf(doseUnit) === AMT_ML) return { value: dose, exact: true }
    if (isPerM2(doseUnit) && !(bsaThousandthsM2 > 0)) return { value: -1, exact: false }
    // rate[µL/h] = dose/1000 · f_dose · (W/1000) · (60 if per min) / ((amount/1000 · f_conc) / volume[µL])
    const num = [dose, amountFactor(amountOf(doseUnit)), isPerMin(doseUnit) ? 60 : 1, c.volumeUl]
    const den = [c.amount, amountFactor(concUnit)]
    pushPatientFactors(doseUnit, num, den, weightG, bsaThousandthsM2)
    return ratioRound(num, den)
}

/** µL holding an amount (bolus/loading, in thousandths of `unit`, per kg if the unit says so). */
export function amountToUl(unit: number, amount: number, weightG: number, concUnit: number, c: Concentration, bsaThousandthsM2?: number) {
    if (amountOf(unit) === AMT_ML) return { value: amount, exact: true }
    if (isPerM2(unit) && !(bsaThousandthsM2 > 0)) return { value: -1, exact: false }
    const num = [amount, amountFactor(amountOf(unit)), c.volumeUl]
    const den = [c.amount, amountFactor(concUnit)]
    pushPatientFactors(unit, num, den, weightG, bsaThousandthsM2)
    return ratioRound(num, den)
}

/** Amount in base units (1e-6 of the main unit) of `value` thousandths of `unit`, optionally
 *  over `minutes` for a rate unit. Rounded to the nearest base unit (ng, micro-unit): only used
 *  for the dose-window sum, where that is far below any clinical resolution. */
function baseAmount(unit: number, value: number, weightG: number, minutes: number, bsaThousandthsM2: number): number {
    const num = [value, amountFactor(amountOf(unit))]
    const den = [1000]
    if (isPerM2(unit) && !(bsaThousandthsM2 > 0)) return -1
    pushPatientFactors(unit, num, den, weightG, bsaThousandthsM2)
    if (minutes > 0) {
        num.push(minutes)
        if (!isPerMin(unit)) den.push(60)
    }
    return ratioRound(num, den).value
}

function matchConcentration(chk: Checker, e: DrugEntry, req: DoseRequest) {
    const c = req.concentration
    if (!c) {
        chk.refuse("concentration is required for " + e.drug)
        return
    }
    if (req.concUnit !== e.concUnit) {
        chk.refuse("concentration unit mismatch: " + e.drug + " is in " + unitName(e.concUnit) + "/mL, entered " + unitName(req.concUnit))
        return
    }
    if (!positiveWhole(c.amount) || !positiveWhole(c.volumeUl) || c.volumeUl > 1000000) {
        chk.refuse("concentration: amount and volume must be positive whole numbers (volume <= 1000 mL)")
        return
    }
    for (let i = 0; i < e.concentrations.length; i++) {
        const l = e.concentrations[i]
        if (compareProducts([c.amount, l.volumeUl], [l.amount, c.volumeUl]) === 0) return
    }
    const text = formatThousandths(c.amount) + " " + unitName(e.concUnit) + "/" + formatThousandths(c.volumeUl) + " mL"
    if (e.customConc.hardMin === NONE || e.customConc.hardMax === NONE) {
        chk.refuse("concentration mismatch: " + text + " is not a library concentration of " + e.drug)
        return
    }
    // Concentration per mL in thousandths of the unit = amount · 1000 / volume[µL].
    const perMl = ratioRound([c.amount, 1000], [c.volumeUl]).value
    const l = e.customConc
    if (compareProducts([c.amount, 1000], [l.hardMin, c.volumeUl]) < 0 || compareProducts([c.amount, 1000], [l.hardMax, c.volumeUl]) > 0) {
        chk.refuse("concentration " + text + " is outside the hard limits " + formatThousandths(l.hardMin) + ".." + formatThousandths(l.hardMax) + " " + unitName(e.concUnit) + "/mL")
        return
    }
    const u = unitName(e.concUnit) + "/mL"
    if (l.softMin !== NONE && compareProducts([c.amount, 1000], [l.softMin, c.volumeUl]) < 0)
        chk.soft.push({ field: "concentration", bound: "softMin", limit: l.softMin, value: perMl, unit: u })
    else if (l.softMax !== NONE && compareProducts([c.amount, 1000], [l.softMax, c.volumeUl]) > 0)
        chk.soft.push({ field: "concentration", bound: "softMax", limit: l.softMax, value: perMl, unit: u })
}

function checkDoseSpec(chk: Checker, field: string, spec: DoseSpec, dose: number, durationS: number, req: DoseRequest, e: DrugEntry) {
    if (!spec) {
        chk.refuse(field + " is not allowed for " + e.drug + " in this care area")
        return { ul: 0, s: 0 }
    }
    if (!positiveWhole(dose)) {
        chk.refuse(field + " dose must be a positive whole number of thousandths")
        return { ul: 0, s: 0 }
    }
    const n0 = chk.reasons.length
    chk.limits(field, dose, spec.dose, unitName(spec.unit), "thousandths")
    if (!isWholeNumber(durationS)) chk.refuse(field + " duration must be a whole number of seconds")
    else chk.limits(field + "Duration", durationS, spec.durationS, "s", "s")
    if (chk.reasons.length > n0 || (isPerKg(spec.unit) && !positiveWhole(req.weightG)) || (isPerM2(spec.unit) && chk.bsa < 0)) return { ul: 0, s: 0 }
    if (amountOf(e.doseUnit) !== AMT_ML && !req.concentration) return { ul: 0, s: 0 }
    const v = amountToUl(spec.unit, dose, req.weightG, e.concUnit, req.concentration, chk.bsa)
    if (v.value < 0) chk.refuse(field + ": volume cannot be computed exactly (values too large)")
    return { ul: v.value, s: durationS }
}

/** Checks a request against the library and builds the program. Logs refusals and confirmed
 *  overrides; a "confirm" result is not logged (nothing was programmed yet). */
export function programDose(lib: DrugLibrary, req: DoseRequest, log: EventSink, nowMs: number): DoseResult {
    return checkDose(lib, req, log, nowMs, "DERS_PROGRAM")
}

/** Same checks for a new dose of a running infusion (the loading dose is not repeated). */
export function checkTitration(lib: DrugLibrary, active: DoseRequest, newDose: number, confirmed: string[], log: EventSink, nowMs: number): DoseResult {
    const req = copyRequest(active)
    req.dose = newDose
    req.loadingDose = NONE
    req.loadingDurationS = NONE
    req.confirmed = confirmed
    return checkDose(lib, req, log, nowMs, "DERS_TITRATE")
}

/** Same checks for a bolus on a running infusion: the bolus dose and duration against the
 *  entry's bolus limits and the dose window (the loading dose is not repeated). */
export function checkBolus(lib: DrugLibrary, active: DoseRequest, bolusDose: number, bolusDurationS: number, confirmed: string[], log: EventSink, nowMs: number): DoseResult {
    const req = copyRequest(active)
    req.bolusDose = bolusDose
    req.bolusDurationS = bolusDurationS
    req.loadingDose = NONE
    req.loadingDurationS = NONE
    req.confirmed = confirmed
    return checkDose(lib, req, log, nowMs, "DERS_BOLUS")
}

function checkDose(lib: DrugLibrary, req: DoseRequest, log: EventSink, nowMs: number, okKind: EventKind): DoseResult {
    const chk = new Checker()
    const res: DoseResult = { status: "refused", reasons: chk.reasons, soft: chk.soft, program: null, rateExact: false, loadingUl: 0, loadingDurationS: 0, bsaThousandthsM2: -1 }
    if (!lib) {
        chk.refuse("no drug library is installed")
        return finish(res, req, log, nowMs, okKind)
    }
    const area = findArea(lib, req.careArea)
    if (!area) {
        chk.refuse("unknown care area '" + req.careArea + "'")
        return finish(res, req, log, nowMs, okKind)
    }
    const e = req.drug === BASIC_INFUSION ? basicEntry(area) : findEntry(lib, area, req.drug)
    if (!e) {
        chk.refuse("'" + req.drug + "' is not in the " + area.name + " library; use " + BASIC_INFUSION + " (mL/h)")
        return finish(res, req, log, nowMs, okKind)
    }
    const flowOnly = amountOf(e.doseUnit) === AMT_ML
    // Unit confusion: the entered unit must be the library's, with no conversion between a dose
    // rate and a flow rate (entering 5 "mL/h" for a 5 mcg/kg/min order is a classic error).
    if (req.doseUnit !== e.doseUnit) {
        if (amountOf(req.doseUnit) === AMT_ML || flowOnly)
            chk.refuse("unit confusion: " + e.drug + " is programmed in " + unitName(e.doseUnit) + ", not " + unitName(req.doseUnit) + " (dose rate vs flow rate)")
        else chk.refuse("dose unit " + unitName(req.doseUnit) + " does not match the library unit " + unitName(e.doseUnit) + " for " + e.drug)
        return finish(res, req, log, nowMs, okKind)
    }
    if (!positiveWhole(req.dose)) {
        chk.refuse("dose must be a positive whole number of thousandths of " + unitName(e.doseUnit))
        return finish(res, req, log, nowMs, okKind)
    }
    chk.limits(flowOnly ? "rate" : "dose", req.dose, e.dose, unitName(e.doseUnit), "thousandths")

    const needsWeight = isPerKg(e.doseUnit) || (positiveWhole(req.bolusDose) && e.bolus && isPerKg(e.bolus.unit)) ||
        (positiveWhole(req.loadingDose) && e.loading && isPerKg(e.loading.unit)) || (e.window && isPerKg(e.window.unit))
    if (req.weightG === NONE || req.weightG === undefined || req.weightG === null) {
        if (needsWeight) chk.refuse("patient weight is required: " + e.drug + " is dosed per kg")
    } else if (!positiveWhole(req.weightG)) {
        chk.refuse("weight must be a positive whole number of grams")
    } else {
        chk.limits("weight", req.weightG, e.weightG, "g", "g")
    }

    // Body surface area: per-m² units need height and weight; Mosteller, pump limits (bsa.ts).
    const needsBsa = isPerM2(e.doseUnit) || (positiveWhole(req.bolusDose) && e.bolus && isPerM2(e.bolus.unit)) ||
        (positiveWhole(req.loadingDose) && e.loading && isPerM2(e.loading.unit)) || (e.window && isPerM2(e.window.unit))
    if (needsBsa) {
        const noHeight = req.heightMm === NONE || req.heightMm === undefined || req.heightMm === null
        const noWeight = req.weightG === NONE || req.weightG === undefined || req.weightG === null
        if (noHeight || noWeight) chk.refuse("patient height and weight are required: " + e.drug + " is dosed per m² of body surface area")
        else {
            const b = checkBsa(req.heightMm, req.weightG)
            for (let i = 0; i < b.reasons.length; i++) chk.refuse(b.reasons[i])
            chk.bsa = b.bsaThousandthsM2
            res.bsaThousandthsM2 = b.bsaThousandthsM2
        }
    }

    if (!flowOnly) matchConcentration(chk, e, req)
    else if (req.concentration) chk.refuse("a concentration was entered for a mL/h infusion")

    let bolus = { ul: 0, s: 0 }
    if (req.bolusDose !== NONE && req.bolusDose !== 0) bolus = checkDoseSpec(chk, "bolus", e.bolus, req.bolusDose, req.bolusDurationS, req, e)
    let loading = { ul: 0, s: 0 }
    if (req.loadingDose !== NONE && req.loadingDose !== 0)
        loading = checkDoseSpec(chk, "loading", e.loading, req.loadingDose, req.loadingDurationS, req, e)
    if (chk.reasons.length > 0) return finish(res, req, log, nowMs, okKind)

    const rate = doseToRateUlPerH(e.doseUnit, req.dose, req.weightG, e.concUnit, req.concentration, chk.bsa)
    if (rate.value < 0) chk.refuse("dose cannot be converted exactly (values too large)")
    else if (rate.value < MIN_RATE_UL_PER_H || rate.value > MAX_RATE_UL_PER_H)
        chk.refuse("dose gives " + formatThousandths(rate.value) + " mL/h, outside the pump range " + formatThousandths(MIN_RATE_UL_PER_H) + ".." + formatThousandths(MAX_RATE_UL_PER_H) + " mL/h")
    const syringe = findSyringe(req.syringeId)
    if (loading.ul > 0 && syringe) {
        const why = syringeRateProblem("loading dose over " + loading.s + " s", Math.ceil((loading.ul * 3600) / loading.s), syringe, REFERENCE_MECHANICS)
        if (why.length > 0) chk.refuse(why)
    }
    if (e.window) checkWindow(chk, e, req, chk.bsa)
    if (chk.reasons.length > 0) return finish(res, req, log, nowMs, okKind)

    // KVO never exceeds the primary rate (the pump requires it); a lower KVO is stated in the log.
    const kvo = e.kvoUlPerH <= rate.value ? e.kvoUlPerH : rate.value
    const p: InfusionProgram = {
        syringeId: req.syringeId,
        rateUlPerH: rate.value,
        vtbiUl: req.vtbiUl,
        kvoRateUlPerH: kvo,
        bolusUl: bolus.ul,
        bolusDurationS: bolus.s,
    }
    const v = validateProgram(p, findSyringe(req.syringeId))
    for (let i = 0; i < v.errors.length; i++) chk.refuse(v.errors[i])
    if (chk.reasons.length > 0) return finish(res, req, log, nowMs, okKind)
    res.program = p
    res.rateExact = rate.exact
    res.loadingUl = loading.ul
    res.loadingDurationS = loading.s
    return finish(res, req, log, nowMs, okKind)
}

function checkWindow(chk: Checker, e: DrugEntry, req: DoseRequest, bsa: number) {
    const w = e.window
    // The continuous part can deliver no more than the VTBI holds, whichever comes first.
    let sum = baseAmount(e.doseUnit, req.dose, req.weightG, w.minutes, bsa)
    const c = req.concentration
    const inVtbi = ratioRound([req.vtbiUl, c.amount, amountFactor(e.concUnit)], [1000, c.volumeUl]).value
    if (inVtbi >= 0 && inVtbi < sum) sum = inVtbi
    // Any part that cannot be computed exactly (-1) refuses the whole sum.
    let parts = sum < 0 ? -1 : 0
    if (positiveWhole(req.bolusDose)) {
        const b = baseAmount(e.bolus.unit, req.bolusDose, req.weightG, 0, bsa)
        if (b < 0) parts = -1
        sum += b
    }
    if (positiveWhole(req.loadingDose)) {
        const l = baseAmount(e.loading.unit, req.loadingDose, req.weightG, 0, bsa)
        if (l < 0) parts = -1
        sum += l
    }
    const max = baseAmount(w.unit, w.maxAmount, req.weightG, 0, bsa)
    if (sum < 0 || max < 0 || parts < 0) {
        chk.refuse("dose window cannot be computed exactly")
        return
    }
    if (sum > max) {
        // Show the programmed amount in the window's unit (per kg if it is per kg).
        const den = [amountFactor(amountOf(w.unit))]
        const num = [sum, 1000]
        if (isPerKg(w.unit)) {
            num.push(1000)
            den.push(req.weightG)
        }
        if (isPerM2(w.unit)) {
            num.push(1000)
            den.push(bsa)
        }
        const shown = ratioRound(num, den).value
        chk.refuse("programmed doses give " + formatThousandths(shown) + " " + unitName(w.unit) + " in " + w.minutes + " min; the limit is " +
            formatThousandths(w.maxAmount) + " " + unitName(w.unit) + " per " + w.minutes + " min")
    }
}

function confirmedAll(res: DoseResult, confirmed: string[]): boolean {
    for (let i = 0; i < res.soft.length; i++) {
        let found = false
        for (let j = 0; j < confirmed.length; j++) if (confirmed[j] === res.soft[i].field) found = true
        if (!found) return false
    }
    return true
}

function describe(req: DoseRequest): string {
    return "area=" + req.careArea + " drug=" + req.drug
}

function finish(res: DoseResult, req: DoseRequest, log: EventSink, nowMs: number, okKind: EventKind): DoseResult {
    if (res.reasons.length > 0) {
        res.status = "refused"
        res.program = null
        log.record(nowMs, "DERS_REFUSED", describe(req) + ": " + res.reasons.join("; "))
        return res
    }
    if (!confirmedAll(res, req.confirmed ? req.confirmed : [])) {
        res.status = "confirm"
        res.program = null
        return res
    }
    for (let i = 0; i < res.soft.length; i++) {
        const s = res.soft[i]
        const scale = s.unit === "g" || s.unit === "s" ? "s" : "thousandths"
        log.record(nowMs, "DERS_OVERRIDE", describe(req) + " " + s.field + "=" + show(s.value, scale) + " " + s.unit + " beyond " + s.bound + " " + show(s.limit, scale) + " " + s.unit + " (confirmed)")
    }
    res.status = "ok"
    const p = res.program
    log.record(nowMs, okKind, describe(req) + " dose=" + formatThousandths(req.dose) + " rate=" + p.rateUlPerH + "uL/h" + (res.rateExact ? "" : " (rounded)") +
        " kvo=" + p.kvoRateUlPerH + "uL/h bolus=" + p.bolusUl + "uL" + (res.loadingUl > 0 ? " loading=" + res.loadingUl + "uL/" + res.loadingDurationS + "s" : "") +
        (res.bsaThousandthsM2 > 0 ? " bsa=" + formatThousandths(res.bsaThousandthsM2) + "m2 height=" + req.heightMm + "mm weight=" + req.weightG + "g" : ""))
    return res
}
