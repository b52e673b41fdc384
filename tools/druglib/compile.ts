// Source drug library (JSON written by pharmacy) -> checked model -> compact bytes.
// Every problem is collected with its JSON path; nothing stops at the first error.

import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Ajv } from "ajv"
import addFormatsModule from "ajv-formats"
import { parseThousandths } from "../../src/core/units"
import { AMT_ML, amountFamily, amountOf, isPerKg, parseUnit, unitName, UNIT_PER_H } from "../../src/core/druglib/doseUnits"
import { amountToUl, doseToRateUlPerH } from "../../src/core/druglib/dosing"
import { Concentration, DoseSpec, DoseWindow, DrugEntry, DrugLibrary, LibrarySource, Limits, NONE } from "../../src/core/druglib/model"
import { parseLibrary } from "../../src/core/druglib/parse"
import { encodeLibrary } from "./encode"

export interface Problem {
    path: string
    message: string
}

export interface CompileResult {
    errors: Problem[]
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
        const t = parseThousandths(String(v))
        if (Number.isNaN(t)) this.err(path, "must be >= 0 with at most 3 decimals (got " + v + ")")
        else if (t > 0xfffffffe) this.err(path, "too large for the compact form")
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
        if (doseToRateUlPerH(e.doseUnit, e.dose.hardMax, w, e.concUnit, c).value < 0)
            ctx.err(path + "/dose/hardMax", "conversion to uL/h leaves the exact integer range; choose a different unit")
        for (const [k, s] of [["bolus", e.bolus], ["loading", e.loading]] as const)
            if (s && amountToUl(s.unit, s.dose.hardMax, w, e.concUnit, c).value < 0)
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

/** Checks a parsed JSON document and, if it is clean, encodes it. */
export function compileSource(doc: unknown): CompileResult {
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
        a.entries.forEach((e: any, ei: number) => {
            const ep = ap + "/entries/" + ei
            if (drugNames.has(e.drug)) ctx.err(ep + "/drug", "duplicate drug '" + e.drug + "' in care area " + a.name)
            if (e.drug === "Basic infusion") ctx.err(ep + "/drug", "'Basic infusion' is reserved for drugs not in the library")
            drugNames.add(e.drug)
            area.entries.push(entry(ctx, ep, e))
        })
        lib.careAreas.push(area)
    })
    if (ctx.errors.length > 0) return { errors: ctx.errors, library: null, bytes: null }
    const bytes = encodeLibrary(lib)
    // The firmware's own parser must accept exactly what we emit.
    const back = parseLibrary(bytes)
    if (!back.ok) return { errors: [{ path: "/", message: "internal: firmware parser refuses the output: " + back.error }], library: null, bytes: null }
    return { errors: [], library: back.library, source: lib, bytes }
}

export function compileFile(path: string): CompileResult {
    let doc: unknown
    try {
        doc = JSON.parse(readFileSync(path, "utf8"))
    } catch (e) {
        return { errors: [{ path: "/", message: "cannot read JSON: " + (e as Error).message }], library: null, bytes: null }
    }
    return compileSource(doc)
}
