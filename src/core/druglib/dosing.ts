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
import { AMT_ML, amountFactor, isPerKg, UNIT_PER_H, UNIT_PER_M2, UNIT_PER_MIN, unitName } from "./doseUnits"
import { checkBsa } from "./bsa"
import { ratioRound } from "./exact"
import { CareArea, Concentration, DoseSpec, DoseWindow, DrugEntry, DrugLibrary, Limits, NONE, noLimits, outside } from "./model"
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
    /** True when limit and value are in thousandths of `unit` (false: whole g or s). */
    thousandths: boolean
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
    return Object.assign({}, r)
}

export function findArea(lib: DrugLibrary, name: string): CareArea {
    if (!lib) return null
    for (let i = 0; i < lib.careAreas.length; i++) if (lib.careAreas[i].name === name) return lib.careAreas[i]
    return null
}

export function findEntry(lib: DrugLibrary, area: CareArea, drug: string): DrugEntry {
    // Not listed: index -1, which decodeEntry answers with null.
    return decodeEntry(lib, area, area.drugs.indexOf(drug))
}

/** The synthetic entry for a drug not in the library: mL/h only, the area's flow limits. */
export function basicEntry(area: CareArea): DrugEntry {
    return {
        drug: BASIC_INFUSION,
        doseUnit: AMT_ML | UNIT_PER_H,
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

/** Hard bounds refuse; soft bounds record an excursion. Bounds are inclusive, checked in the order
 *  hardMin, hardMax, softMin, softMax; the first one crossed decides. `thousandths` says how the
 *  values are shown. A concentration passes itself (compared exactly as amount·1000 vs limit·volume
 *  µL; `value` is then the rounded per-mL figure) and its own hard-limit text.
 *  Exactness of that comparison: a library bound is < 2^32 and the volume <= 10^6 µL (checked by
 *  the caller), so limit·volume < 2^53 is exact; amount·1000 is exact below 2^53 and, above it,
 *  still a double above every limit·volume, so the sign of the difference is always right. */
function limits(res: DoseResult, field: string, value: number, l: Limits, unit: string, thousandths: boolean, cc?: Concentration, hardText?: string) {
    const b = [l.hardMin, l.hardMax, l.softMin, l.softMax]
    for (let i = 0; i < 4; i++) {
        const lim = b[i]
        if (lim === NONE) continue
        // c > 0 when the value is beyond a max (odd i) or, negated, below a min (even i).
        let c = cc ? cc.amount * 1000 - lim * cc.volumeUl : value - lim
        if (!(i & 1)) c = -c
        if (c > 0) {
            if (i < 2)
                res.reasons.push(hardText || field + " " + show(value, thousandths) + " " + unit + (i ? " is above the hard maximum " : " is below the hard minimum ") + show(lim, thousandths) + " " + unit)
            else res.soft.push({ field: field, bound: i & 1 ? "softMax" : "softMin", limit: lim, value: value, unit: unit, thousandths: thousandths })
            return
        }
    }
}

function show(v: number, thousandths: boolean): string {
    return thousandths ? formatThousandths(v) : "" + v
}

function positiveWhole(v: number): boolean {
    return isWholeNumber(v) && v > 0
}

function absent(v: number): boolean {
    return v === NONE || v === undefined || v === null
}

/** The patient factors of a per-kg or per-m² unit, pushed onto a ratio (num / den): weight in g
 *  (/1000 for kg) and BSA in thousandths of m² (/1000). The one place for this scaling. False
 *  when the unit is per m² and there is no BSA (> 0): the ratio is then not computable. */
export function pushPatientFactors(unit: number, num: number[], den: number[], weightG: number, bsaThousandthsM2: number): boolean {
    if (isPerKg(unit)) {
        num.push(weightG)
        den.push(1000)
    }
    if (unit & UNIT_PER_M2) {
        num.push(bsaThousandthsM2)
        den.push(1000)
        return bsaThousandthsM2 > 0
    }
    return true
}

/** µL/h for a continuous dose; -1 if not computable exactly (refused by the caller). A per-m²
 *  unit needs `bsaThousandthsM2` (BSA in thousandths of m²); without one it is -1. With an amount
 *  unit (no time base: the factor is 1) it is the µL holding that amount (amountToUl). */
export function doseToRateUlPerH(doseUnit: number, dose: number, weightG: number, concUnit: number, c: Concentration, bsaThousandthsM2?: number) {
    // Amount code 0 (bits 0-3) is mL: the dose is the flow.
    if (!(doseUnit & 0x0f)) return { value: dose, exact: true }
    // rate[µL/h] = dose/1000 · f_dose · (W/1000) · (60 if per min) / ((amount/1000 · f_conc) / volume[µL])
    const num = [dose, amountFactor(doseUnit & 0x0f), doseUnit & UNIT_PER_MIN ? 60 : 1, c.volumeUl]
    const den = [c.amount, amountFactor(concUnit)]
    if (!pushPatientFactors(doseUnit, num, den, weightG, bsaThousandthsM2)) return { value: -1, exact: false }
    return ratioRound(num, den)
}

/** µL holding an amount (bolus/loading, in thousandths of `unit`, per kg if the unit says so):
 *  the same ratio as doseToRateUlPerH, an amount unit having no per-minute factor. */
export function amountToUl(unit: number, amount: number, weightG: number, concUnit: number, c: Concentration, bsaThousandthsM2?: number) {
    return doseToRateUlPerH(unit, amount, weightG, concUnit, c, bsaThousandthsM2)
}

/** Amount in base units (1e-6 of the main unit) of `value` thousandths of `unit`, optionally
 *  over `minutes` for a rate unit. Rounded to the nearest base unit (ng, micro-unit): only used
 *  for the dose-window sum, where that is far below any clinical resolution. */
function baseAmount(unit: number, value: number, weightG: number, minutes: number, bsaThousandthsM2: number): number {
    const num = [value, amountFactor(unit & 0x0f)]
    const den = [1000]
    if (!pushPatientFactors(unit, num, den, weightG, bsaThousandthsM2)) return -1
    if (minutes > 0) {
        num.push(minutes)
        if (!(unit & UNIT_PER_MIN)) den.push(60)
    }
    return ratioRound(num, den).value
}

function matchConcentration(res: DoseResult, e: DrugEntry, req: DoseRequest) {
    const why = res.reasons
    const c = req.concentration
    const name = unitName(e.concUnit)
    const u = name + "/mL"
    if (!c) {
        why.push("concentration is required for " + e.drug)
        return
    }
    if (req.concUnit !== e.concUnit) {
        why.push("concentration unit mismatch: " + e.drug + " is in " + u + ", entered " + unitName(req.concUnit))
        return
    }
    const amount = c.amount
    const volumeUl = c.volumeUl
    if (!positiveWhole(amount) || !positiveWhole(volumeUl) || volumeUl > 1000000) {
        why.push("concentration: amount and volume must be positive whole numbers (volume <= 1000 mL)")
        return
    }
    const listed = e.concentrations
    // Same ratio, compared as cross products: a listed amount is < 2^32 and both volumes are
    // <= 10^6 µL, so listed.amount·volumeUl < 2^53 is exact, and amount·listed.volumeUl is exact
    // whenever it could equal it (a product >= 2^53 stays a double >= 2^53).
    for (let i = 0; i < listed.length; i++) if (amount * listed[i].volumeUl === listed[i].amount * volumeUl) return
    const text = formatThousandths(amount) + " " + name + "/" + formatThousandths(volumeUl) + " mL"
    const l = e.customConc
    // A bound is NONE (-1) or >= 0: the smaller is NONE when either is.
    if (Math.min(l.hardMin, l.hardMax) === NONE) {
        why.push("concentration mismatch: " + text + " is not a library concentration of " + e.drug)
        return
    }
    // Concentration per mL in thousandths of the unit = amount · 1000 / volume[µL], compared exactly.
    limits(res, "concentration", ratioRound([amount, 1000], [volumeUl]).value, l, u, true, c,
        "concentration " + text + " is outside the hard limits " + formatThousandths(l.hardMin) + ".." + formatThousandths(l.hardMax) + " " + u)
}

/** A bolus or loading dose checked against its spec: µL to deliver (its duration is the
 *  request's); 0 (or -1) when refused, then a reason is recorded here or by the entry checks. */
function checkDoseSpec(res: DoseResult, field: string, spec: DoseSpec, dose: number, durationS: number, req: DoseRequest, e: DrugEntry): number {
    const why = res.reasons
    // A requested bolus or loading dose is any value but NONE and 0 (a negative one is refused).
    if (dose === NONE || dose === 0) return 0
    if (!spec) {
        why.push(field + " is not allowed for " + e.drug + " in this care area")
        return 0
    }
    if (!positiveWhole(dose)) {
        why.push(field + " dose must be a positive whole number of thousandths")
        return 0
    }
    const n0 = why.length
    limits(res, field, dose, spec.dose, unitName(spec.unit), true)
    if (!isWholeNumber(durationS)) why.push(field + " duration must be a whole number of seconds")
    else limits(res, field + "Duration", durationS, spec.durationS, "s", false)
    // Nothing to compute while a reason stands (this field's, or the entry's missing weight, BSA
    // or concentration, recorded by evaluate): the request is refused anyway.
    const unit = spec.unit
    const weightG = req.weightG
    const c = req.concentration
    if (why.length > n0) return 0
    if (isPerKg(unit)) if (!positiveWhole(weightG)) return 0
    if (unit & UNIT_PER_M2) if (res.bsaThousandthsM2 < 0) return 0
    // (A drug entry, amount code not mL, needs the concentration.)
    if (e.doseUnit & 0x0f) if (!c) return 0
    const v = doseToRateUlPerH(unit, dose, weightG, e.concUnit, c, res.bsaThousandthsM2).value
    if (v < 0) why.push(field + ": volume cannot be computed exactly (values too large)")
    return v
}

/** Same checks for a new dose of a running infusion (the loading dose is not repeated). */
export function checkTitration(lib: DrugLibrary, active: DoseRequest, newDose: number, confirmed: string[], log: EventSink, nowMs: number): DoseResult {
    const req = copyRequest(active)
    req.dose = newDose
    return recheck(lib, req, confirmed, log, nowMs, "DERS_TITRATE")
}

/** Same checks for a bolus on a running infusion: the bolus dose and duration against the
 *  entry's bolus limits and the dose window (the loading dose is not repeated). */
export function checkBolus(lib: DrugLibrary, active: DoseRequest, bolusDose: number, bolusDurationS: number, confirmed: string[], log: EventSink, nowMs: number): DoseResult {
    const req = copyRequest(active)
    req.bolusDose = bolusDose
    req.bolusDurationS = bolusDurationS
    return recheck(lib, req, confirmed, log, nowMs, "DERS_BOLUS")
}

function recheck(lib: DrugLibrary, req: DoseRequest, confirmed: string[], log: EventSink, nowMs: number, okKind: EventKind): DoseResult {
    req.loadingDose = NONE
    req.loadingDurationS = NONE
    req.confirmed = confirmed
    return programDose(lib, req, log, nowMs, okKind)
}

/** Every check; reasons and soft excursions land in `res`, and `res.program` is set only when
 *  no reason was recorded. The entry and patient checks here, the rate, syringe, dose window and
 *  program in `finish` (two call frames of about 20 locals, not one of 47: the VM heap). */
function evaluate(lib: DrugLibrary, req: DoseRequest, res: DoseResult) {
    const why = res.reasons
    if (!lib) {
        why.push("no drug library is installed")
        return
    }
    const area = findArea(lib, req.careArea)
    if (!area) {
        why.push("unknown care area '" + req.careArea + "'")
        return
    }
    const e = req.drug === BASIC_INFUSION ? basicEntry(area) : findEntry(lib, area, req.drug)
    if (!e) {
        why.push("'" + req.drug + "' is not in the " + area.name + " library; use " + BASIC_INFUSION + " (mL/h)")
        return
    }
    const drug = e.drug
    const du = e.doseUnit
    // Amount code 0 is mL: a flow-rate (mL/h) entry.
    const flowOnly = !(du & 0x0f)
    const unit = unitName(du)
    const ru = req.doseUnit
    // Unit confusion: the entered unit must be the library's, with no conversion between a dose
    // rate and a flow rate (entering 5 "mL/h" for a 5 mcg/kg/min order is a classic error).
    if (ru !== du) {
        const given = unitName(ru)
        if (!(ru & 0x0f) || flowOnly)
            why.push("unit confusion: " + drug + " is programmed in " + unit + ", not " + given + " (dose rate vs flow rate)")
        else why.push("dose unit " + given + " does not match the library unit " + unit + " for " + drug)
        return
    }
    const dose = req.dose
    if (!positiveWhole(dose)) {
        why.push("dose must be a positive whole number of thousandths of " + unit)
        return
    }
    limits(res, flowOnly ? "rate" : "dose", dose, e.dose, unit, true)

    // Units in play (the dose, a requested bolus or loading dose, the window): their per-kg and
    // per-m² bits say whether weight or body surface area is needed.
    const bd = req.bolusDose
    const ld = req.loadingDose
    let units = du
    if (e.window) units |= e.window.unit
    if (e.bolus) if (positiveWhole(bd)) units |= e.bolus.unit
    if (e.loading) if (positiveWhole(ld)) units |= e.loading.unit
    const weightG = req.weightG
    const noWeight = absent(weightG)
    if (noWeight) {
        if (isPerKg(units)) why.push("patient weight is required: " + drug + " is dosed per kg")
    } else if (!positiveWhole(weightG)) {
        why.push("weight must be a positive whole number of grams")
    } else {
        limits(res, "weight", weightG, e.weightG, "g", false)
    }

    // Body surface area: per-m² units need height and weight; Mosteller, pump limits (bsa.ts).
    if (units & UNIT_PER_M2) {
        if (absent(req.heightMm) || noWeight) why.push("patient height and weight are required: " + drug + " is dosed per m² of body surface area")
        else {
            res.bsaThousandthsM2 = checkBsa(req.heightMm, weightG, why).bsaThousandthsM2
        }
    }

    if (!flowOnly) matchConcentration(res, e, req)
    else if (req.concentration) why.push("a concentration was entered for a mL/h infusion")

    finish(req, res, e)
}

/** After the entry and patient checks: the bolus and loading dose; with no reason recorded, the
 *  rate within the pump's range, the loading dose within the syringe's rate, the dose window,
 *  then the program (validated). */
function finish(req: DoseRequest, res: DoseResult, e: DrugEntry) {
    const why = res.reasons
    const bolusUl = checkDoseSpec(res, "bolus", e.bolus, req.bolusDose, req.bolusDurationS, req, e)
    const loadingUl = checkDoseSpec(res, "loading", e.loading, req.loadingDose, req.loadingDurationS, req, e)
    if (why.length > 0) return
    const rate = doseToRateUlPerH(e.doseUnit, req.dose, req.weightG, e.concUnit, req.concentration, res.bsaThousandthsM2)
    const r = rate.value
    if (r < 0) why.push("dose cannot be converted exactly (values too large)")
    else if (outside(r, MIN_RATE_UL_PER_H, MAX_RATE_UL_PER_H))
        why.push("dose gives " + formatThousandths(r) + " mL/h, outside the pump range " + formatThousandths(MIN_RATE_UL_PER_H) + ".." + formatThousandths(MAX_RATE_UL_PER_H) + " mL/h")
    const syringe = findSyringe(req.syringeId)
    // With no reason recorded, a requested bolus or loading dose is > 0 and its duration the request's.
    const loadingS = req.loadingDose > 0 ? req.loadingDurationS : 0
    if (syringe) if (loadingUl > 0) {
        const w = syringeRateProblem("loading dose over " + loadingS + " s", Math.ceil((loadingUl * 3600) / loadingS), syringe, REFERENCE_MECHANICS)
        if (w.length > 0) why.push(w)
    }
    if (e.window) checkWindow(req, res, e, e.window)
    if (why.length > 0) return

    // KVO never exceeds the primary rate (the pump requires it); a lower KVO is stated in the log.
    const bolusS = req.bolusDose > 0 ? req.bolusDurationS : 0
    const p: InfusionProgram = {
        syringeId: req.syringeId,
        rateUlPerH: r,
        vtbiUl: req.vtbiUl,
        kvoRateUlPerH: Math.min(e.kvoUlPerH, r),
        bolusUl: bolusUl,
        bolusDurationS: bolusS,
    }
    const v = validateProgram(p, syringe).errors
    for (let i = 0; i < v.length; i++) why.push(v[i])
    if (why.length > 0) return
    res.program = p
    res.rateExact = rate.exact
    res.loadingUl = loadingUl
    res.loadingDurationS = loadingS
}

/** Dose window: the continuous part can deliver no more than the VTBI holds, whichever comes
 *  first; a requested bolus and loading dose add to it. */
function checkWindow(req: DoseRequest, res: DoseResult, e: DrugEntry, win: DoseWindow) {
    const bsa = res.bsaThousandthsM2
    const weightG = req.weightG
    const conc = req.concentration
    const minutes = win.minutes
    let sum = baseAmount(e.doseUnit, req.dose, weightG, minutes, bsa)
    const inVtbi = ratioRound([req.vtbiUl, conc.amount, amountFactor(e.concUnit)], [1000, conc.volumeUl]).value
    if (inVtbi >= 0) if (inVtbi < sum) sum = inVtbi
    // With no reason recorded, a requested bolus or loading dose is > 0 and its spec present.
    const xb = req.bolusDose > 0 ? baseAmount(e.bolus.unit, req.bolusDose, weightG, 0, bsa) : 0
    const xl = req.loadingDose > 0 ? baseAmount(e.loading.unit, req.loadingDose, weightG, 0, bsa) : 0
    const wu = win.unit
    const max = baseAmount(wu, win.maxAmount, weightG, 0, bsa)
    // Any part that cannot be computed exactly (-1) refuses the whole sum.
    if (Math.min(sum, xb, xl, max) < 0) res.reasons.push("dose window cannot be computed exactly")
    else if (sum + xb + xl > max) {
        // Show the programmed amount in the window's unit (per kg if it is per kg): the patient
        // factors inverted (num and den swapped).
        const den = [amountFactor(wu & 0x0f)]
        const num = [sum + xb + xl, 1000]
        pushPatientFactors(wu, den, num, weightG, bsa)
        const u = " " + unitName(wu)
        res.reasons.push("programmed doses give " + formatThousandths(ratioRound(num, den).value) + u + " in " + minutes + " min; the limit is " +
            formatThousandths(win.maxAmount) + u + " per " + minutes + " min")
    }
}

/** Checks a request against the library and builds the program. Logs refusals and confirmed
 *  overrides; a "confirm" result is not logged (nothing was programmed yet). The program is
 *  logged as `okKind` (checkTitration, checkBolus), DERS_PROGRAM by default. */
export function programDose(lib: DrugLibrary, req: DoseRequest, log: EventSink, nowMs: number, okKind?: EventKind): DoseResult {
    const res: DoseResult = { status: "refused", reasons: [], soft: [], program: null, rateExact: false, loadingUl: 0, loadingDurationS: 0, bsaThousandthsM2: -1 }
    evaluate(lib, req, res)
    const d = "area=" + req.careArea + " drug=" + req.drug
    if (res.reasons.length > 0) {
        log.record(nowMs, "DERS_REFUSED", d + ": " + res.reasons.join("; "))
        return res
    }
    const conf = req.confirmed || []
    const soft = res.soft
    for (let i = 0; i < soft.length; i++)
        if (conf.indexOf(soft[i].field) < 0) {
            res.status = "confirm"
            res.program = null
            return res
        }
    for (let i = 0; i < soft.length; i++) {
        const s = soft[i]
        const u = " " + s.unit
        const t = s.thousandths
        log.record(nowMs, "DERS_OVERRIDE", d + " " + s.field + "=" + show(s.value, t) + u + " beyond " + s.bound + " " + show(s.limit, t) + u + " (confirmed)")
    }
    res.status = "ok"
    const p = res.program
    let t = d + " dose=" + formatThousandths(req.dose) + " rate=" + p.rateUlPerH + "uL/h" + (res.rateExact ? "" : " (rounded)") +
        " kvo=" + p.kvoRateUlPerH + "uL/h bolus=" + p.bolusUl + "uL"
    if (res.loadingUl > 0) t += " loading=" + res.loadingUl + "uL/" + res.loadingDurationS + "s"
    if (res.bsaThousandthsM2 > 0) t += " bsa=" + formatThousandths(res.bsaThousandthsM2) + "m2 height=" + req.heightMm + "mm weight=" + req.weightG + "g"
    log.record(nowMs, okKind || "DERS_PROGRAM", t)
    return res
}
