// Defensive parser of the compact drug library (layout: docs/drug-library.md). Every read is
// bounds-checked and every field is checked for range and consistency; any failure yields an error
// with the byte offset and the field, never an exception to the caller and never a partial
// library. The parse runs one care-area header or one entry per `step()` so the VM can yield
// between steps (long synchronous loops trap there).

import { AMT_ML, amountFamily, amountOf, isPerKg, isValidDoseUnit, unitName } from "./doseUnits"
import { CareArea, Concentration, DoseSpec, DoseWindow, DrugEntry, DrugLibrary, Limits, NONE } from "./model"

export const MAGIC = [0x44, 0x4c, 0x49, 0x42] // "DLIB"
export const FORMAT_VERSION = 1
export const U32_NONE = 0xffffffff
export const FLAG_BOLUS = 1
export const FLAG_LOADING = 2
export const FLAG_WINDOW = 4
export const MAX_NAME = 40
export const MAX_AREAS = 16
export const MAX_ENTRIES = 120
export const MAX_CONCENTRATIONS = 8
/** Largest compact library accepted (the settings store and RAM budget, docs/drug-library.md). */
export const MAX_LIBRARY_BYTES = 32768
export const MAX_KVO_UL_PER_H = 5000
export const MAX_WEIGHT_G = 500000
export const MAX_DOSE_DURATION_S = 3600
export const MAX_WINDOW_MIN = 1440

/** Anything indexable by byte: a DeviceScript Buffer, a Node Buffer or Uint8Array. */
export interface ByteSource {
    length: number
    [index: number]: number
}

export interface ParseResult {
    ok: boolean
    error: string
    library: DrugLibrary
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class LibraryParser {
    private readonly b: ByteSource
    private pos = 0
    private lib: DrugLibrary = null
    private areaCount = 0
    private area: CareArea = null
    private entriesLeft = 0
    private where = "header"
    private finished = false
    private err = ""
    private failMsg = ""

    constructor(bytes: ByteSource) {
        this.b = bytes
    }

    /** Parses the next piece; returns true when the parse has finished (see `error`). */
    step(): boolean {
        if (this.finished) return true
        try {
            this.next()
        } catch (e) {
            // fail() leaves the reason in failMsg; anything else is a bug or hostile input: report
            // it the same way so the caller always gets a clean refusal.
            const msg = this.failMsg.length > 0 ? this.failMsg : "unexpected: " + e
            this.err = "offset " + this.pos + " (" + this.where + "): " + msg
            this.finished = true
        }
        return this.finished
    }

    error(): string {
        return this.err
    }

    result(): ParseResult {
        if (!this.finished) return { ok: false, error: "parse not finished", library: null }
        if (this.err.length > 0) return { ok: false, error: this.err, library: null }
        return { ok: true, error: "", library: this.lib }
    }

    /** Decodes one entry of a validated library (RAM holds one entry at a time). */
    entryAt(area: CareArea, offset: number): DrugEntry {
        // A fresh area record: the duplicate-name check must not see the area's own list.
        this.area = { name: area.name, basicRateUlPerH: area.basicRateUlPerH, drugs: [], offsets: [] }
        this.pos = offset
        try {
            return this.entry()
        } catch (e) {
            return null
        }
    }

    // ---- structure ------------------------------------------------------------------------

    private next() {
        if (this.lib === null) {
            this.header()
        } else if (this.entriesLeft > 0) {
            const at = this.pos
            const e = this.entry()
            this.area.drugs.push(e.drug)
            this.area.offsets.push(at)
            this.entriesLeft--
        } else if (this.lib.careAreas.length < this.areaCount) {
            this.careArea()
        } else {
            this.where = "end"
            if (this.pos !== this.b.length) this.fail((this.b.length - this.pos) + " trailing bytes")
            this.finished = true
        }
    }

    private header() {
        if (!this.b || typeof this.b.length !== "number") this.fail("no data")
        if (this.b.length > MAX_LIBRARY_BYTES) this.fail("library is " + this.b.length + " bytes; limit " + MAX_LIBRARY_BYTES)
        for (let i = 0; i < 4; i++) if (this.u8() !== MAGIC[i]) this.fail("not a drug library (bad magic)")
        const fmt = this.u8()
        if (fmt !== FORMAT_VERSION) this.fail("format version " + fmt + " is not supported (expected " + FORMAT_VERSION + ")")
        const version = this.u32()
        if (version < 1 || version === U32_NONE) this.fail("library version must be 1..4294967294")
        const date = this.u32()
        const y = Math.floor(date / 10000)
        const m = Math.floor(date / 100) % 100
        const d = date % 100
        if (y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1 || d > 31) this.fail("date " + date + " is not yyyymmdd")
        const total = this.u32()
        if (total !== this.b.length) this.fail("length field says " + total + " bytes, got " + this.b.length + " (truncated or padded)")
        const name = this.str("library name")
        this.areaCount = this.u8()
        if (this.areaCount < 1 || this.areaCount > MAX_AREAS) this.fail("care area count " + this.areaCount + " is outside 1.." + MAX_AREAS)
        this.lib = { version: version, date: date, name: name, careAreas: [], bytes: this.b }
    }

    private careArea() {
        const idx = this.lib.careAreas.length
        this.where = "care area " + (idx + 1)
        const name = this.str("care area name")
        for (let i = 0; i < this.lib.careAreas.length; i++)
            if (this.lib.careAreas[i].name === name) this.fail("duplicate care area '" + name + "'")
        this.where = "care area " + name
        const basic = this.limits("basic infusion rate")
        if (basic.hardMax === NONE) this.fail("basic infusion needs a hard maximum rate")
        const n = this.u8()
        if (n > MAX_ENTRIES) this.fail("entry count " + n + " exceeds " + MAX_ENTRIES)
        this.area = { name: name, basicRateUlPerH: basic, drugs: [], offsets: [] }
        this.entriesLeft = n
        this.lib.careAreas.push(this.area)
    }

    private entry(): DrugEntry {
        this.where = this.area.name + " entry " + (this.area.drugs.length + 1)
        const drug = this.str("drug name")
        for (let i = 0; i < this.area.drugs.length; i++)
            if (this.area.drugs[i] === drug) this.fail("duplicate drug '" + drug + "'")
        this.where = this.area.name + "/" + drug
        const doseUnit = this.u8()
        if (!isValidDoseUnit(doseUnit, true)) this.fail("dose unit code " + doseUnit + " is not a rate unit")
        const dose = this.limits("dose")
        if (dose.hardMax === NONE) this.fail("dose needs a hard maximum")
        const defaultDose = this.optU32()
        this.inside(defaultDose, dose, "default dose")
        const weightG = this.limits("weight")
        if (weightG.hardMax !== NONE && weightG.hardMax > MAX_WEIGHT_G) this.fail("weight hard max above " + MAX_WEIGHT_G + " g")
        if (isPerKg(doseUnit) && (weightG.hardMin === NONE || weightG.hardMax === NONE || weightG.hardMin < 1))
            this.fail("weight-based unit " + unitName(doseUnit) + " needs hard weight limits >= 1 g")
        const concUnit = this.u8()
        const flowOnly = amountOf(doseUnit) === AMT_ML
        if (!isValidDoseUnit(concUnit, false) || isPerKg(concUnit)) this.fail("concentration unit code " + concUnit + " is invalid")
        if (flowOnly !== (concUnit === AMT_ML)) this.fail("mL/h entries have no drug concentration; drug entries need one")
        if (!flowOnly && amountFamily(concUnit) !== amountFamily(amountOf(doseUnit)))
            this.fail("concentration in " + unitName(concUnit) + " cannot express a dose in " + unitName(doseUnit))
        const nc = this.u8()
        if (nc > MAX_CONCENTRATIONS) this.fail("more than " + MAX_CONCENTRATIONS + " concentrations")
        const concs: Concentration[] = []
        for (let i = 0; i < nc; i++) {
            const amount = this.u32()
            const volumeUl = this.u32()
            if (amount < 1 || volumeUl < 1 || amount === U32_NONE || volumeUl > 1000000)
                this.fail("concentration " + (i + 1) + " needs amount >= 0.001 and volume 0.001..1000 mL")
            concs.push({ amount: amount, volumeUl: volumeUl })
        }
        const customConc = this.limits("custom concentration")
        if (flowOnly && (nc > 0 || customConc.hardMax !== NONE)) this.fail("mL/h entries have no concentrations")
        if (!flowOnly && nc === 0 && (customConc.hardMin === NONE || customConc.hardMax === NONE))
            this.fail("needs a listed concentration or hard custom concentration limits")
        const flags = this.u8()
        if (flags > 7) this.fail("unknown flags " + flags)
        const bolus = (flags & FLAG_BOLUS) !== 0 ? this.doseSpec("bolus", doseUnit) : null
        const loading = (flags & FLAG_LOADING) !== 0 ? this.doseSpec("loading dose", doseUnit) : null
        const window = (flags & FLAG_WINDOW) !== 0 ? this.window(doseUnit) : null
        const kvo = this.u32()
        if (kvo > MAX_KVO_UL_PER_H) this.fail("KVO " + kvo + " uL/h above " + MAX_KVO_UL_PER_H)
        return {
            drug: drug,
            doseUnit: doseUnit,
            dose: dose,
            defaultDose: defaultDose,
            weightG: weightG,
            concUnit: concUnit,
            concentrations: concs,
            customConc: customConc,
            bolus: bolus,
            loading: loading,
            window: window,
            kvoUlPerH: kvo,
        }
    }

    private doseSpec(what: string, doseUnit: number): DoseSpec {
        const unit = this.u8()
        this.amountUnitMatches(unit, doseUnit, what)
        const dose = this.limits(what + " dose")
        if (dose.hardMax === NONE) this.fail(what + " needs a hard maximum dose")
        const def = this.optU32()
        this.inside(def, dose, what + " default")
        const dur = this.limits(what + " duration")
        if (dur.hardMin === NONE || dur.hardMin < 1 || dur.hardMax === NONE || dur.hardMax > MAX_DOSE_DURATION_S)
            this.fail(what + " duration needs hard limits within 1.." + MAX_DOSE_DURATION_S + " s")
        const defDur = this.optU32()
        this.inside(defDur, dur, what + " default duration")
        return { unit: unit, dose: dose, defaultDose: def, durationS: dur, defaultDurationS: defDur }
    }

    private window(doseUnit: number): DoseWindow {
        const unit = this.u8()
        if (amountOf(unit) === AMT_ML) this.fail("a dose window is an amount of drug, not mL")
        this.amountUnitMatches(unit, doseUnit, "dose window")
        const max = this.u32()
        const minutes = this.u16()
        if (max < 1 || max === U32_NONE) this.fail("dose window amount must be >= 0.001")
        if (minutes < 1 || minutes > MAX_WINDOW_MIN) this.fail("dose window must be 1.." + MAX_WINDOW_MIN + " min")
        return { unit: unit, maxAmount: max, minutes: minutes }
    }

    private amountUnitMatches(unit: number, doseUnit: number, what: string) {
        if (!isValidDoseUnit(unit, false)) this.fail(what + " unit code " + unit + " is not an amount unit")
        if (amountFamily(amountOf(unit)) !== amountFamily(amountOf(doseUnit)))
            this.fail(what + " in " + unitName(unit) + " does not match the dose unit " + unitName(doseUnit))
        if (isPerKg(unit) && !isPerKg(doseUnit)) this.fail(what + " per kg needs a weight-based dose unit")
    }

    // ---- primitives -----------------------------------------------------------------------

    private fail(msg: string) {
        this.failMsg = msg
        throw new Error(msg)
    }

    private need(n: number) {
        if (this.pos + n > this.b.length) this.fail("truncated: need " + n + " more bytes")
    }

    private u8(): number {
        this.need(1)
        const v = this.b[this.pos]
        this.pos++
        if (typeof v !== "number" || v < 0 || v > 255 || Math.floor(v) !== v) this.fail("not a byte")
        return v
    }

    private u16(): number {
        const lo = this.u8()
        return lo + this.u8() * 256
    }

    private u32(): number {
        const a = this.u16()
        return a + this.u16() * 65536
    }

    private optU32(): number {
        const v = this.u32()
        return v === U32_NONE ? NONE : v
    }

    private str(what: string): string {
        const n = this.u8()
        if (n < 1 || n > MAX_NAME) this.fail(what + " length " + n + " is outside 1.." + MAX_NAME)
        this.need(n)
        let s = ""
        for (let i = 0; i < n; i++) {
            const c = this.u8()
            if (c < 0x20 || c > 0x7e) this.fail(what + " has a non-printable byte " + c)
            s += String.fromCharCode(c)
        }
        return s
    }

    /** Four optional bounds; present ones must be ordered hardMin <= softMin <= softMax <= hardMax. */
    private limits(what: string): Limits {
        const l: Limits = { hardMin: this.optU32(), softMin: this.optU32(), softMax: this.optU32(), hardMax: this.optU32() }
        const seq = [l.hardMin, l.softMin, l.softMax, l.hardMax]
        let prev = NONE
        for (let i = 0; i < 4; i++) {
            if (seq[i] === NONE) continue
            if (prev !== NONE && seq[i] < prev) this.fail(what + " limits are out of order (hardMin <= softMin <= softMax <= hardMax)")
            prev = seq[i]
        }
        return l
    }

    private inside(v: number, l: Limits, what: string) {
        if (v === NONE) return
        if ((l.hardMin !== NONE && v < l.hardMin) || (l.hardMax !== NONE && v > l.hardMax)) this.fail(what + " is outside its hard limits")
    }
}

/** Decodes the entry at `offset` of an already validated library (see CareArea). Null if the
 *  bytes no longer decode, which cannot happen for a library that passed the parser. */
export function decodeEntry(lib: DrugLibrary, area: CareArea, index: number): DrugEntry {
    if (!lib || !area || index < 0 || index >= area.offsets.length) return null
    const p = new LibraryParser(lib.bytes)
    return p.entryAt(area, area.offsets[index])
}

/** Parses in one go (host tools and tests; the device uses `LibraryParser.step` with yields). */
export function parseLibrary(bytes: ByteSource): ParseResult {
    const p = new LibraryParser(bytes)
    let guard = 0
    while (!p.step()) {
        guard++
        if (guard > 100000) return { ok: false, error: "parser did not finish", library: null }
    }
    return p.result()
}
