// What changed between two libraries, entry by entry, in the pharmacist's units.

import { amountName, unitName } from "../../src/core/druglib/doseUnits"
import { CareArea, DoseSpec, DrugEntry, DrugLibrary, Limits, NONE } from "../../src/core/druglib/model"
import { decodeEntry } from "../../src/core/druglib/parse"
import { formatThousandths } from "../../src/core/units"

function fmt(v: number, scale: "t" | "g" | "s"): string {
    if (v === NONE) return "-"
    if (scale === "g") return formatThousandths(v) + " kg"
    if (scale === "s") return v + " s"
    return formatThousandths(v)
}

function limitsFields(out: Map<string, string>, prefix: string, l: Limits, scale: "t" | "g" | "s", unit: string) {
    for (const k of ["hardMin", "softMin", "softMax", "hardMax"] as const)
        out.set(prefix + "." + k, fmt(l[k], scale) + (l[k] !== NONE && unit ? " " + unit : ""))
}

function specFields(out: Map<string, string>, prefix: string, s: DoseSpec | null) {
    if (!s) {
        out.set(prefix, "none")
        return
    }
    out.set(prefix + ".unit", unitName(s.unit))
    limitsFields(out, prefix + ".dose", s.dose, "t", unitName(s.unit))
    out.set(prefix + ".dose.default", fmt(s.defaultDose, "t"))
    limitsFields(out, prefix + ".durationS", s.durationS, "s", "")
    out.set(prefix + ".durationS.default", fmt(s.defaultDurationS, "s"))
}

export function entryFields(e: DrugEntry): Map<string, string> {
    const m = new Map<string, string>()
    const u = unitName(e.doseUnit)
    m.set("doseUnit", u)
    limitsFields(m, "dose", e.dose, "t", u)
    m.set("dose.default", fmt(e.defaultDose, "t"))
    limitsFields(m, "weight", e.weightG, "g", "")
    m.set("concentration.unit", amountName(e.concUnit))
    m.set("concentration.standard", e.concentrations.map(c => formatThousandths(c.amount) + " " + amountName(e.concUnit) + "/" + formatThousandths(c.volumeUl) + " mL").join(", ") || "none")
    limitsFields(m, "concentration.custom", e.customConc, "t", amountName(e.concUnit) + "/mL")
    specFields(m, "bolus", e.bolus)
    specFields(m, "loading", e.loading)
    m.set("maxDose", e.window ? formatThousandths(e.window.maxAmount) + " " + unitName(e.window.unit) + " per " + e.window.minutes + " min" : "none")
    m.set("kvo", formatThousandths(e.kvoUlPerH) + " mL/h")
    return m
}

export interface DiffLine {
    kind: "added" | "removed" | "changed"
    where: string
    detail: string
}

export function areaEntries(lib: DrugLibrary, a: CareArea): DrugEntry[] {
    return a.drugs.map((_, i) => decodeEntry(lib, a, i)!)
}

function areaMap(lib: DrugLibrary): Map<string, CareArea> {
    return new Map(lib.careAreas.map(a => [a.name, a]))
}

export function diffLibraries(a: DrugLibrary, b: DrugLibrary): DiffLine[] {
    const out: DiffLine[] = []
    if (a.version !== b.version) out.push({ kind: "changed", where: "library", detail: "version " + a.version + " -> " + b.version })
    if (a.date !== b.date) out.push({ kind: "changed", where: "library", detail: "date " + a.date + " -> " + b.date })
    if (a.name !== b.name) out.push({ kind: "changed", where: "library", detail: "name '" + a.name + "' -> '" + b.name + "'" })
    const am = areaMap(a)
    const bm = areaMap(b)
    for (const [name, area] of am) if (!bm.has(name)) out.push({ kind: "removed", where: name, detail: "care area with " + area.drugs.length + " entries" })
    for (const [name, area] of bm) {
        const old = am.get(name)
        if (!old) {
            out.push({ kind: "added", where: name, detail: "care area with " + area.drugs.length + " entries" })
            continue
        }
        const bl = new Map<string, string>()
        const al = new Map<string, string>()
        limitsFields(al, "basicInfusion.rate", old.basicRateUlPerH, "t", "mL/h")
        limitsFields(bl, "basicInfusion.rate", area.basicRateUlPerH, "t", "mL/h")
        for (const [k, v] of bl) if (al.get(k) !== v) out.push({ kind: "changed", where: name, detail: k + ": " + al.get(k) + " -> " + v })
        const oe = new Map(areaEntries(a, old).map(e => [e.drug, e]))
        const ne = new Map(areaEntries(b, area).map(e => [e.drug, e]))
        for (const [drug] of oe) if (!ne.has(drug)) out.push({ kind: "removed", where: name + "/" + drug, detail: "drug entry" })
        for (const [drug, e] of ne) {
            const o = oe.get(drug)
            if (!o) {
                out.push({ kind: "added", where: name + "/" + drug, detail: "drug entry in " + unitName(e.doseUnit) })
                continue
            }
            const fo = entryFields(o)
            const fn = entryFields(e)
            for (const [k, v] of fn) if (fo.get(k) !== v) out.push({ kind: "changed", where: name + "/" + drug, detail: k + ": " + (fo.get(k) ?? "none") + " -> " + v })
            for (const [k, v] of fo) if (!fn.has(k)) out.push({ kind: "changed", where: name + "/" + drug, detail: k + ": " + v + " -> none" })
        }
    }
    return out
}
