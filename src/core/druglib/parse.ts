// Defensive parser of the compact drug library (layout: docs/drug-library.md). Every read is
// bounds-checked and every field is checked for range and consistency; any failure yields an error
// with the byte offset and the field, never an exception to the caller and never a partial
// library. The parse runs one care-area header or one entry per `step()` so the VM can yield
// between steps (long synchronous loops trap there).

import { AMT_ML, amountFamily, isPerKg, isValidDoseUnit, unitName } from "./doseUnits"
import { CareArea, Concentration, DoseSpec, DoseWindow, DrugEntry, DrugLibrary, Limits, NONE, outside } from "./model"

/** "DLIB": the first four bytes (string data costs no bytecode; the encoder writes its codes). */
export const MAGIC = "DLIB"
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

/** Why the parse stopped (set by fail(); step() clears it first, so anything else thrown is
 *  reported as unexpected). Module state: a parse step is synchronous, nothing interleaves. */
let failMsg = ""

function fail(msg: string) {
    failMsg = msg
    throw new Error(msg)
}

// The read cursor: the bytes, the offset and what is being read (for the error text). Module
// state set by each parse step and by decodeEntry (both synchronous, so nothing interleaves) and
// emptied after them, so no library bytes or computed text outlive a step on the heap. Module
// functions instead of parser methods: no method descriptors or prototype registrations.
let rb: ByteSource = null
let rpos = 0
let where = ""

export interface ParseResult {
    ok: boolean
    error: string
    library: DrugLibrary
}

/** A parse in steps; once `step()` has returned true the parser is its own ParseResult (no
 *  result object or method to build: bytecode). Until then `ok` is false and `error` says
 *  "parse not finished".
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class LibraryParser implements ParseResult {
    private readonly b: ByteSource
    private pos = 0
    ok = false
    error = "parse not finished"
    /** The library being built; null after a failure. */
    library: DrugLibrary = null
    private areaCount = 0
    private area: CareArea = null
    private entriesLeft = 0
    private finished = false

    constructor(bytes: ByteSource) {
        this.b = bytes
    }

    /** Parses the next piece (the header, one care-area header or one entry); returns true when
     *  the parse has finished (then see `ok`, `error`, `library`). */
    step(): boolean {
        if (this.finished) return true
        failMsg = ""
        const b = this.b
        rb = b
        rpos = this.pos
        where = "header"
        try {
            const lib = this.library
            if (lib === null) {
                if (!b || typeof b.length !== "number") fail("no data")
                if (b.length > MAX_LIBRARY_BYTES) fail("library is " + b.length + (" bytes; limit " + MAX_LIBRARY_BYTES))
                for (let i = 0; i < 4; i++) if (u8() !== MAGIC.charCodeAt(i)) fail("not a drug library (bad magic)")
                const fmt = u8()
                if (fmt !== FORMAT_VERSION) fail("format version " + fmt + (" is not supported (expected " + FORMAT_VERSION + ")"))
                const version = uint(4)
                if (outside(version, 1, U32_NONE - 1)) fail("library version must be 1..4294967294")
                const date = uint(4)
                if (outside(Math.floor(date / 10000), 2000, 2999) || outside(Math.floor(date / 100) % 100, 1, 12) || outside(date % 100, 1, 31))
                    fail("date " + date + " is not yyyymmdd")
                const total = uint(4)
                if (total !== b.length) fail("length field says " + total + " bytes, got " + b.length + " (truncated or padded)")
                const name = str("library name")
                const n = u8()
                this.areaCount = n
                if (outside(n, 1, MAX_AREAS)) fail("care area count " + n + (" is outside 1.." + MAX_AREAS))
                this.library = { version: version, date: date, name: name, careAreas: [], bytes: b }
            } else if (this.entriesLeft > 0) {
                const at = rpos
                const area = this.area
                area.drugs.push(entry(area, true).drug)
                area.offsets.push(at)
                this.entriesLeft--
            } else if (lib.careAreas.length < this.areaCount) {
                // Care area header.
                const areas = lib.careAreas
                where = "care area " + (areas.length + 1)
                const name = str("care area name")
                for (let i = 0; i < areas.length; i++) if (areas[i].name === name) fail("duplicate care area '" + name + "'")
                where = "care area " + name
                const basic = limits("basic infusion rate", "basic infusion needs a hard maximum rate")
                const n = u8()
                if (n > MAX_ENTRIES) fail("entry count " + n + (" exceeds " + MAX_ENTRIES))
                this.area = { name: name, basicRateUlPerH: basic, drugs: [], offsets: [] }
                this.entriesLeft = n
                areas.push(this.area)
            } else {
                where = "end"
                if (rpos !== b.length) fail((b.length - rpos) + " trailing bytes")
                this.ok = true
                this.error = ""
                this.finished = true
            }
        } catch (e) {
            // fail() leaves the reason in failMsg; anything else is a bug or hostile input: report
            // it the same way so the caller always gets a clean refusal.
            this.error = "offset " + rpos + " (" + where + "): " + (failMsg.length > 0 ? failMsg : "unexpected: " + e)
            this.library = null
            this.finished = true
        }
        this.pos = rpos
        rb = null
        where = ""
        return this.finished
    }
}

/** The entry at the cursor. `parsing`: a new entry of `area` (its name must not be listed yet);
 *  decodeEntry re-reads a listed one. */
function entry(area: CareArea, parsing: boolean): DrugEntry {
    const names = area.drugs
    const areaName = area.name
    where = areaName + " entry " + (names.length + 1)
    const drug = str("drug name")
    if (parsing) if (names.indexOf(drug) >= 0) fail("duplicate drug '" + drug + "'")
    where = areaName + "/" + drug
    const doseUnit = u8()
    if (!isValidDoseUnit(doseUnit, true)) fail("dose unit code " + doseUnit + " is not a rate unit")
    const dose = limits("dose", "dose needs a hard maximum")
    const defaultDose = optU32()
    inside(defaultDose, dose, "default dose")
    const weightG = limits("weight")
    if (weightG.hardMax > MAX_WEIGHT_G) fail("weight hard max above " + MAX_WEIGHT_G + " g")
    // Bounds are ordered and NONE is -1: the smaller is below 1 when either is missing or hardMin is.
    if (isPerKg(doseUnit)) if (Math.min(weightG.hardMin, weightG.hardMax) < 1)
        fail("weight-based unit " + unitName(doseUnit) + " needs hard weight limits >= 1 g")
    const concUnit = u8()
    // Amount code 0 (bits 0-3) is mL: a flow-rate entry.
    const flowOnly = (doseUnit & 0x0f) === AMT_ML
    if (!isValidDoseUnit(concUnit, false) || isPerKg(concUnit)) fail("concentration unit code " + concUnit + " is invalid")
    if (flowOnly !== (concUnit === AMT_ML)) fail("mL/h entries have no drug concentration; drug entries need one")
    // (For mL/h both are AMT_ML here, the same family.)
    if (amountFamily(concUnit) !== amountFamily(doseUnit & 0x0f))
        fail("concentration in " + unitName(concUnit) + " cannot express a dose in " + unitName(doseUnit))
    const nc = u8()
    if (nc > MAX_CONCENTRATIONS) fail("more than " + MAX_CONCENTRATIONS + " concentrations")
    const concs: Concentration[] = []
    for (let i = 0; i < nc; i++) {
        const amount = uint(4)
        const volumeUl = uint(4)
        if (outside(amount, 1, U32_NONE - 1) || outside(volumeUl, 1, 1000000))
            fail("concentration " + (i + 1) + " needs amount >= 0.001 and volume 0.001..1000 mL")
        concs.push({ amount: amount, volumeUl: volumeUl })
    }
    const customConc = limits("custom concentration")
    if (flowOnly) {
        if (nc > 0 || customConc.hardMax !== NONE) fail("mL/h entries have no concentrations")
    } else if (nc === 0) {
        // (A bound is NONE, -1, or >= 0: the smaller is NONE when either is.)
        if (Math.min(customConc.hardMin, customConc.hardMax) === NONE) fail("needs a listed concentration or hard custom concentration limits")
    }
    const flags = u8()
    if (flags > 7) fail("unknown flags " + flags)
    const bolus = flags & FLAG_BOLUS ? doseSpec("bolus", doseUnit) : null
    const loading = flags & FLAG_LOADING ? doseSpec("loading dose", doseUnit) : null
    let window: DoseWindow = null
    if (flags & FLAG_WINDOW) {
        const unit = u8()
        if ((unit & 0x0f) === AMT_ML) fail("a dose window is an amount of drug, not mL")
        amountUnitMatches(unit, doseUnit, "dose window")
        const max = uint(4)
        const minutes = uint(2)
        if (outside(max, 1, U32_NONE - 1)) fail("dose window amount must be >= 0.001")
        if (outside(minutes, 1, MAX_WINDOW_MIN)) fail("dose window must be 1.." + MAX_WINDOW_MIN + " min")
        window = { unit: unit, maxAmount: max, minutes: minutes }
    }
    const kvo = uint(4)
    if (kvo > MAX_KVO_UL_PER_H) fail("KVO " + kvo + (" uL/h above " + MAX_KVO_UL_PER_H))
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

function doseSpec(what: string, doseUnit: number): DoseSpec {
    const unit = u8()
    amountUnitMatches(unit, doseUnit, what)
    const dose = limits(what + " dose", what + " needs a hard maximum dose")
    const def = optU32()
    inside(def, dose, what + " default")
    const dur = limits(what + " duration")
    if (Math.min(dur.hardMin, dur.hardMax) < 1 || dur.hardMax > MAX_DOSE_DURATION_S)
        fail(what + (" duration needs hard limits within 1.." + MAX_DOSE_DURATION_S + " s"))
    const defDur = optU32()
    inside(defDur, dur, what + " default duration")
    return { unit: unit, dose: dose, defaultDose: def, durationS: dur, defaultDurationS: defDur }
}

function amountUnitMatches(unit: number, doseUnit: number, what: string) {
    if (!isValidDoseUnit(unit, false)) fail(what + " unit code " + unit + " is not an amount unit")
    if (amountFamily(unit & 0x0f) !== amountFamily(doseUnit & 0x0f))
        fail(what + " in " + unitName(unit) + " does not match the dose unit " + unitName(doseUnit))
    if (isPerKg(unit)) if (!isPerKg(doseUnit)) fail(what + " per kg needs a weight-based dose unit")
}

// ---- primitives (on the module cursor) -----------------------------------------------------

function need(n: number) {
    if (rpos + n > rb.length) fail("truncated: need " + n + " more bytes")
}

function u8(): number {
    need(1)
    const v = rb[rpos]
    rpos++
    if (!(v >= 0 && v <= 255 && Math.floor(v) === v)) fail("not a byte")
    return v
}

/** Little-endian unsigned integer of `bytes` bytes. */
function uint(bytes: number): number {
    let v = 0
    for (let i = 0, m = 1; i < bytes; i++, m *= 256) v += u8() * m
    return v
}

function optU32(): number {
    const v = uint(4)
    return v === U32_NONE ? NONE : v
}

function str(what: string): string {
    const n = u8()
    if (outside(n, 1, MAX_NAME)) fail(what + " length " + n + (" is outside 1.." + MAX_NAME))
    need(n)
    let s = ""
    for (let i = 0; i < n; i++) {
        const c = u8()
        if (outside(c, 0x20, 0x7e)) fail(what + " has a non-printable byte " + c)
        s += String.fromCharCode(c)
    }
    return s
}

/** Four optional bounds; present ones must be ordered hardMin <= softMin <= softMax <= hardMax.
 *  With `needMax`, a missing hardMax fails with that text. */
function limits(what: string, needMax?: string): Limits {
    const seq: number[] = []
    for (let i = 0; i < 4; i++) seq.push(optU32())
    // Present bounds are >= 0 and NONE is -1, so the first present bound passes `< prev`.
    let prev = NONE
    for (let i = 0; i < 4; i++) {
        if (seq[i] === NONE) continue
        if (seq[i] < prev) fail(what + " limits are out of order (hardMin <= softMin <= softMax <= hardMax)")
        prev = seq[i]
    }
    if (needMax) if (seq[3] === NONE) fail(needMax)
    return { hardMin: seq[0], softMin: seq[1], softMax: seq[2], hardMax: seq[3] }
}

/** A default `v` (NONE: none) within `l`, whose hardMax every caller has already required.
 *  v >= 0 here, so an absent hardMin (NONE, -1) never fails. */
function inside(v: number, l: Limits, what: string) {
    if (v !== NONE) if (outside(v, l.hardMin, l.hardMax)) fail(what + " is outside its hard limits")
}

/** Decodes the entry at `offset` of an already validated library (see CareArea). Null if the
 *  bytes no longer decode, which cannot happen for a library that passed the parser. */
export function decodeEntry(lib: DrugLibrary, area: CareArea, index: number): DrugEntry {
    // An index outside the list (negative, too large, fractional) has no offset: undefined.
    if (!lib || !area || !(area.offsets[index] >= 0)) return null
    rb = lib.bytes
    rpos = area.offsets[index]
    let e: DrugEntry = null
    try {
        e = entry(area, false)
    } catch (x) {}
    rb = null
    where = ""
    return e
}

/** Parses in one go (host tools and tests; the device uses `LibraryParser.step` with yields). */
export function parseLibrary(bytes: ByteSource): ParseResult {
    const p = new LibraryParser(bytes)
    let guard = 0
    while (!p.step()) {
        guard++
        if (guard > 100000) return { ok: false, error: "parser did not finish", library: null }
    }
    return p
}
