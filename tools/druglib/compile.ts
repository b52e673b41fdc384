// Source drug library (JSON written by pharmacy) -> checked model -> compact bytes.
// Every problem is collected with its JSON path; nothing stops at the first error.

import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Ajv } from "ajv"
import addFormatsModule from "ajv-formats"
import { parseThousandths } from "../../src/core/units"
import { AMT_ML, amountFamily, amountOf, isPerKg, parseUnit, unitName, UNIT_PER_H } from "../../src/core/druglib/doseUnits"
import { amountToUl, doseToRateUlPerH } from "../../src/core/druglib/dosing"
import { MAX_BSA_THOUSANDTHS_M2 } from "../../src/core/druglib/bsa"
import { Concentration, DoseSpec, DoseWindow, DrugEntry, DrugLibrary, LibrarySource, Limits, NONE } from "../../src/core/druglib/model"
import { parseLibrary } from "../../src/core/druglib/parse"
import { encodeLibrary } from "./encode"
import { nameProblem, nameSkeleton, tallManProblem } from "./names"
import { checkPlausibility, ReferenceRange, shippedReferenceTable } from "./reference"
import { duplicateKeys } from "./strictJson"

export interface Problem {
    path: string
    message: string
}

export interface CompileResult {
    errors: Problem[]
    /** Accepted but reported: acknowledged implausible limits, drugs with no reference range. */
    warnings?: Problem[]
    /** The firmware's view (parsed back from the bytes). */
    library: DrugLibrary | null
    /** The full tree that was encoded. */
    source?: LibrarySource
    bytes: Buffer | null
}

const schemaPath = fileURLToPath(new URL("../../docs/drug-library.schema.json", import.meta.url))
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (a: Ajv) => Ajv
let validator: ReturnType<Ajv["compile"]> | null = null

function schemaValidator() {
    if (!validator) {
        const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false })
        addFormats(ajv)
        validator = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")))
    }
    return validator
}

/** Largest value the compact form stores, in thousandths (0xffffffff marks "absent"). */
const MAX_THOUSANDTHS = 0xfffffffe

class Ctx {
    errors: Problem[] = []
    err(path: string, message: string) {
        this.errors.push({ path: path || "/", message })
    }
    /** Decimal with <= 3 decimals -> thousandths; NaN (and an error) otherwise. */
    thousandths(path: string, v: unknown): number {
        if (typeof v !== "number" || !Number.isFinite(v)) {
            this.err(path, "must be a number")
            return NaN
        }
        // Name the rule that failed (a huge value is not a "decimals" problem).
        if (v < 0) {
            this.err(path, "must be >= 0 (got " + v + ")")
            return NaN
        }
        if (v > MAX_THOUSANDTHS / 1000) {
            this.err(path, "too large: the compact form holds at most " + MAX_THOUSANDTHS / 1000 + " (got " + v + ")")
            return NaN
        }
        const t = parseThousandths(String(v))
        if (Number.isNaN(t)) this.err(path, "at most 3 decimals allowed (got " + v + ")")
        return t
    }
}

function limits(ctx: Ctx, path: string, src: any, scale: "thousandths" | "whole" | "kgToG"): Limits & { def: number } {
    const out: Limits & { def: number } = { hardMin: NONE, softMin: NONE, softMax: NONE, hardMax: NONE, def: NONE }
    if (!src) return out
    const keys = ["hardMin", "softMin", "softMax", "hardMax", "default"] as const
    for (const k of keys) {
        if (src[k] === undefined) continue
        let v: number
        if (scale === "whole") {
            v = src[k]
            if (!Number.isInteger(v) || v < 0) {
                ctx.err(path + "/" + k, "must be a whole number >= 0")
                v = NaN
            }
        } else v = ctx.thousandths(path + "/" + k, src[k]) // kg with 3 decimals = g
        if (Number.isNaN(v)) continue
        if (k === "default") out.def = v
        else out[k] = v
    }
    const order: Array<keyof Limits> = ["hardMin", "softMin", "softMax", "hardMax"]
    let prevK = ""
    let prev = NONE
    for (const k of order) {
        if (out[k] === NONE) continue
        if (prev !== NONE && out[k] < prev) ctx.err(path + "/" + k, k + " " + src[k] + " is below " + prevK + " " + src[prevK] + " (need hardMin <= softMin <= softMax <= hardMax)")
        prev = out[k]
        prevK = k
    }
    if (out.def !== NONE) {
        if ((out.hardMin !== NONE && out.def < out.hardMin) || (out.hardMax !== NONE && out.def > out.hardMax))
            ctx.err(path + "/default", "default " + src.default + " is outside the hard limits")
        else if ((out.softMin !== NONE && out.def < out.softMin) || (out.softMax !== NONE && out.def > out.softMax))
            ctx.err(path + "/default", "default " + src.default + " is outside the soft limits (a default must not need an override)")
    }
    return out
}

function stripDef(l: Limits & { def: number }): Limits {
    return { hardMin: l.hardMin, softMin: l.softMin, softMax: l.softMax, hardMax: l.hardMax }
}

function doseSpec(ctx: Ctx, path: string, src: any, doseUnit: number): DoseSpec | null {
    if (!src) return null
    const unit = parseUnit(src.unit, false)
    if (unit < 0) ctx.err(path + "/unit", "unknown amount unit '" + src.unit + "'")
    else if (amountFamily(amountOf(unit)) !== amountFamily(amountOf(doseUnit)))
        ctx.err(path + "/unit", unitName(unit) + " does not match the dose unit " + unitName(doseUnit))
    else if (isPerKg(unit) && !isPerKg(doseUnit)) ctx.err(path + "/unit", "a per-kg amount needs a weight-based dose unit (weight limits)")
    const dose = limits(ctx, path + "/dose", src.dose, "thousandths")
    const dur = limits(ctx, path + "/durationS", src.durationS, "whole")
    if (dur.hardMin !== NONE && dur.hardMin < 1) ctx.err(path + "/durationS/hardMin", "must be >= 1 s")
    if (dur.hardMax !== NONE && dur.hardMax > 3600) ctx.err(path + "/durationS/hardMax", "must be <= 3600 s")
    return { unit, dose: stripDef(dose), defaultDose: dose.def, durationS: stripDef(dur), defaultDurationS: dur.def }
}

function entry(ctx: Ctx, path: string, src: any): DrugEntry {
    const doseUnit = parseUnit(src.doseUnit, true)
    if (doseUnit < 0) ctx.err(path + "/doseUnit", "unknown rate unit '" + src.doseUnit + "'")
    const flowOnly = doseUnit === (AMT_ML | UNIT_PER_H)
    const dose = limits(ctx, path + "/dose", src.dose, "thousandths")
    if (dose.hardMin === 0 || dose.softMin === 0) ctx.err(path + "/dose", "a dose minimum of 0 allows a zero dose; leave it out instead")
    const weight = limits(ctx, path + "/weightKg", src.weightKg, "kgToG")
    if (doseUnit >= 0 && isPerKg(doseUnit) && (weight.hardMin === NONE || weight.hardMax === NONE || weight.hardMin < 1))
        ctx.err(path + "/weightKg", "weight-based unit " + src.doseUnit + " needs weightKg hardMin (>= 0.001) and hardMax")
    if (weight.hardMax !== NONE && weight.hardMax > 500000) ctx.err(path + "/weightKg/hardMax", "above 500 kg")
    let concUnit = AMT_ML
    const concs: Concentration[] = []
    let custom: Limits = { hardMin: NONE, softMin: NONE, softMax: NONE, hardMax: NONE }
    if (flowOnly) {
        if (src.concentration) ctx.err(path + "/concentration", "a mL/h entry has no concentration")
    } else if (!src.concentration) {
        ctx.err(path, "a drug dosed in " + src.doseUnit + " needs a concentration")
    } else {
        const c = src.concentration
        concUnit = parseUnit(c.unit, false)
        if (concUnit < 0 || isPerKg(concUnit)) ctx.err(path + "/concentration/unit", "unknown concentration amount unit '" + c.unit + "'")
        else if (doseUnit >= 0 && amountFamily(concUnit) !== amountFamily(amountOf(doseUnit)))
            ctx.err(path + "/concentration/unit", c.unit + "/mL cannot express a dose in " + src.doseUnit)
        const std: any[] = c.standard ?? []
        std.forEach((s, i) => {
            const a = ctx.thousandths(path + "/concentration/standard/" + i + "/amount", s.amount)
            const v = ctx.thousandths(path + "/concentration/standard/" + i + "/volumeMl", s.volumeMl)
            if (a === 0) ctx.err(path + "/concentration/standard/" + i + "/amount", "must be > 0")
            if (v === 0 || v > 1000000) ctx.err(path + "/concentration/standard/" + i + "/volumeMl", "must be 0.001..1000 mL")
            concs.push({ amount: a, volumeUl: v })
        })
        const cl = limits(ctx, path + "/concentration/custom", c.custom, "thousandths")
        if (c.custom && c.custom.default !== undefined) ctx.err(path + "/concentration/custom/default", "a custom concentration has no default")
        custom = stripDef(cl)
        if (c.custom && (custom.hardMin === NONE || custom.hardMax === NONE || custom.hardMin === 0))
            ctx.err(path + "/concentration/custom", "custom concentrations need hardMin (> 0) and hardMax")
        if (std.length === 0 && !c.custom) ctx.err(path + "/concentration", "needs standard concentrations or custom limits")
    }
    const bolus = doseUnit >= 0 ? doseSpec(ctx, path + "/bolus", src.bolus, doseUnit) : null
    const loading = doseUnit >= 0 ? doseSpec(ctx, path + "/loading", src.loading, doseUnit) : null
    let window: DoseWindow | null = null
    if (src.maxDose && doseUnit >= 0) {
        const unit = parseUnit(src.maxDose.unit, false)
        if (unit < 0) ctx.err(path + "/maxDose/unit", "unknown amount unit '" + src.maxDose.unit + "'")
        else if (amountOf(unit) === AMT_ML) ctx.err(path + "/maxDose/unit", "a maximum dose is an amount of drug, not mL")
        else if (amountFamily(amountOf(unit)) !== amountFamily(amountOf(doseUnit)))
            ctx.err(path + "/maxDose/unit", src.maxDose.unit + " does not match the dose unit " + src.doseUnit)
        else if (isPerKg(unit) && !isPerKg(doseUnit)) ctx.err(path + "/maxDose/unit", "a per-kg maximum needs a weight-based dose unit")
        const amt = ctx.thousandths(path + "/maxDose/amount", src.maxDose.amount)
        if (amt === 0) ctx.err(path + "/maxDose/amount", "must be > 0")
        window = { unit, maxAmount: amt, minutes: src.maxDose.windowMin }
    }
    let kvo = 0
    if (src.kvoMlPerH !== undefined) kvo = ctx.thousandths(path + "/kvoMlPerH", src.kvoMlPerH)
    const e: DrugEntry = {
        drug: src.drug,
        doseUnit,
        dose: stripDef(dose),
        defaultDose: dose.def,
        weightG: stripDef(weight),
        concUnit,
        concentrations: concs,
        customConc: custom,
        bolus,
        loading,
        window,
        kvoUlPerH: kvo,
    }
    if (ctx.errors.length === 0) exactRangeCheck(ctx, path, e)
    return e
}

/** The firmware refuses a conversion that leaves the exact integer range; make sure no dose
 *  inside the hard limits can hit that, for every concentration, at the heaviest allowed weight. */
function exactRangeCheck(ctx: Ctx, path: string, e: DrugEntry) {
    if (amountOf(e.doseUnit) === AMT_ML) return
    const concs = e.concentrations.slice()
    // The weakest custom concentration gives the largest numbers: hardMin per mL.
    if (e.customConc.hardMin !== NONE) concs.push({ amount: e.customConc.hardMin, volumeUl: 1000 })
    const w = e.weightG.hardMax !== NONE ? e.weightG.hardMax : 500000
    for (const c of concs) {
        // Per-m² units: the largest BSA the pump accepts gives the largest numbers.
        if (doseToRateUlPerH(e.doseUnit, e.dose.hardMax, w, e.concUnit, c, MAX_BSA_THOUSANDTHS_M2).value < 0)
            ctx.err(path + "/dose/hardMax", "conversion to uL/h leaves the exact integer range; choose a different unit")
        for (const [k, s] of [["bolus", e.bolus], ["loading", e.loading]] as const)
            if (s && amountToUl(s.unit, s.dose.hardMax, w, e.concUnit, c, MAX_BSA_THOUSANDTHS_M2).value < 0)
                ctx.err(path + "/" + k + "/dose/hardMax", "conversion to uL leaves the exact integer range")
    }
}

function dateNumber(ctx: Ctx, s: string): number {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s ?? "")
    if (!m) {
        ctx.err("/date", "must be yyyy-mm-dd")
        return 0
    }
    return Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3])
}

/** Checks a parsed JSON document and, if it is clean, encodes it. `referenceTable` replaces the
 *  shipped reference ranges (tests of the rule). */
export function compileSource(doc: unknown, referenceTable?: ReferenceRange[]): CompileResult {
    const validate = schemaValidator()
    if (!validate(doc)) {
        const errors = (validate.errors ?? []).map(e => ({
            path: e.instancePath || "/",
            message: e.message + (e.params && (e.params as any).allowedValues ? ": " + (e.params as any).allowedValues.join(", ") : "") +
                (e.params && (e.params as any).additionalProperty ? " '" + (e.params as any).additionalProperty + "'" : ""),
        }))
        return { errors, library: null, bytes: null }
    }
    const src = doc as any
    const ctx = new Ctx()
    const lib: LibrarySource = { version: src.version, date: dateNumber(ctx, src.date), name: src.name, careAreas: [] }
    const globalBasic = limits(ctx, "/basicInfusion/rateMlPerH", src.basicInfusion.rateMlPerH, "thousandths")
    const areaNames = new Set<string>()
    src.careAreas.forEach((a: any, ai: number) => {
        const ap = "/careAreas/" + ai
        if (areaNames.has(a.name)) ctx.err(ap + "/name", "duplicate care area '" + a.name + "'")
        areaNames.add(a.name)
        const basic = a.basicInfusion ? limits(ctx, ap + "/basicInfusion/rateMlPerH", a.basicInfusion.rateMlPerH, "thousandths") : globalBasic
        const area = { name: a.name, basicRateUlPerH: stripDef(basic), entries: [] as DrugEntry[] }
        const drugNames = new Set<string>()
        const skeletons = new Map<string, string>()
        a.entries.forEach((e: any, ei: number) => {
            const ep = ap + "/entries/" + ei
            if (drugNames.has(e.drug)) ctx.err(ep + "/drug", "duplicate drug '" + e.drug + "' in care area " + a.name)
            else if (skeletons.has(nameSkeleton(e.drug)))
                ctx.err(ep + "/drug", "'" + e.drug + "' looks like '" + skeletons.get(nameSkeleton(e.drug)) + "' in care area " + a.name +
                    " (differs only in case, spacing or look-alike characters 1/l/I, 0/O, rn/m)")
            if (nameSkeleton(e.drug) === nameSkeleton("Basic infusion")) ctx.err(ep + "/drug", "'Basic infusion' is reserved for drugs not in the library")
            const np = nameProblem(e.drug)
            if (np) ctx.err(ep + "/drug", np)
            if (e.tallMan !== undefined) {
                const tp = tallManProblem(e.drug, e.tallMan)
                if (tp) ctx.err(ep + "/tallMan", tp)
            }
            drugNames.add(e.drug)
            if (!skeletons.has(nameSkeleton(e.drug))) skeletons.set(nameSkeleton(e.drug), e.drug)
            const de = entry(ctx, ep, e)
            // The pump shows the Tall Man form (same letters, checked above).
            if (e.tallMan !== undefined) de.drug = e.tallMan
            area.entries.push(de)
        })
        lib.careAreas.push(area)
    })
    // Plausibility only on an otherwise clean library (its figures assume valid units and limits).
    const plaus = ctx.errors.length === 0 ? checkPlausibility(src, referenceTable ?? shippedReferenceTable()) : { errors: [], warnings: [] }
    for (const f of plaus.errors) ctx.err(f.path, f.message)
    const warnings = plaus.warnings
    if (ctx.errors.length > 0) return { errors: ctx.errors, warnings, library: null, bytes: null }
    const bytes = encodeLibrary(lib)
    // The firmware's own parser must accept exactly what we emit.
    const back = parseLibrary(bytes)
    if (!back.ok) return { errors: [{ path: "/", message: "internal: firmware parser refuses the output: " + back.error }], library: null, bytes: null }
    return { errors: [], warnings, library: back.library, source: lib, bytes }
}

/** Parses library JSON text, refusing duplicate keys (JSON.parse would keep the last silently). */
export function compileText(text: string, referenceTable?: ReferenceRange[]): CompileResult {
    let doc: unknown
    try {
        doc = JSON.parse(text)
    } catch (e) {
        return { errors: [{ path: "/", message: "cannot read JSON: " + (e as Error).message }], library: null, bytes: null }
    }
    const dups = duplicateKeys(text)
    if (dups.length > 0)
        return { errors: dups.map(d => ({ path: d.path, message: "duplicate key '" + d.key + "' (line " + d.line + "): JSON would silently keep the last value" })), library: null, bytes: null }
    return compileSource(doc, referenceTable)
}

export function compileFile(path: string): CompileResult {
    let text: string
    try {
        text = readFileSync(path, "utf8")
    } catch (e) {
        return { errors: [{ path: "/", message: "cannot read " + path + ": " + ((e as NodeJS.ErrnoException).code === "EISDIR" ? "it is a directory" : (e as Error).message) }], library: null, bytes: null }
    }
    return compileText(text)
}
