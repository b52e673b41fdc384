// Dose units of the drug library. A unit is stored as one byte so the firmware never parses unit
// strings: bits 0-3 amount unit, bit 4 "per kg of patient weight", bit 5 "per minute", bit 6 "per
// hour" (bolus and window amounts have no time base), bit 7 "per m² of body surface area"
// (Mosteller, bsa.ts; never together with per kg). Amounts convert to a fixed base of 1e-6 of
// the family's main unit (ng for mass, micro-units, nmol, nEq) with integer factors.

export const AMT_ML = 0
export const AMT_G = 1
export const AMT_MG = 2
export const AMT_MCG = 3
export const AMT_NG = 4
export const AMT_UNITS = 5
export const AMT_MUNITS = 6
export const AMT_MMOL = 7
export const AMT_MEQ = 8
export const AMT_COUNT = 9

export const UNIT_PER_KG = 0x10
export const UNIT_PER_MIN = 0x20
export const UNIT_PER_H = 0x40
export const UNIT_PER_M2 = 0x80

// Names stay an array: String.split is interpreted bytecode in the VM (about a thousand opcodes a
// call, against the 131,072-opcode turn budget). The number tables are packed in strings, indexed
// by amount code (string data costs no function bytecode).
const AMOUNT_NAMES = ["mL", "g", "mg", "mcg", "ng", "units", "milliunits", "mmol", "mEq"]
/** Base units (1e-6 of the family's main unit) per one amount unit, as a power of 1000:
 *  g 10^9, mg 10^6, mcg 10^3, ng 1, units 10^6, milliunits 10^3, mmol and mEq 10^6. mL has no
 *  base (flow only): factor 0. */
const FACTOR_EXP_1000 = "032102122"
/** Amounts of the same family convert into each other; different families never do. */
const AMOUNT_FAMILY = "011112234"

export function amountOf(code: number): number {
    return code & 0x0f
}

export function isPerKg(code: number): boolean {
    return (code & UNIT_PER_KG) !== 0
}

export function isPerM2(code: number): boolean {
    return (code & UNIT_PER_M2) !== 0
}

export function isPerMin(code: number): boolean {
    return (code & UNIT_PER_MIN) !== 0
}

export function amountFactor(amount: number): number {
    let f = amount === AMT_ML ? 0 : 1
    for (let k = FACTOR_EXP_1000.charCodeAt(amount) - 48; k > 0; k--) f *= 1000
    return f
}

export function amountFamily(amount: number): number {
    return AMOUNT_FAMILY.charCodeAt(amount) - 48
}

/** True only for codes the firmware knows how to convert: a known amount, at most one time base,
 *  and mL only as the flow rate "mL/h" or the volume "mL". */
export function isValidDoseUnit(code: number, rate: boolean): boolean {
    // Only a whole number 0..255 equals its own low byte (NaN, fractions, strings, negatives and
    // larger numbers do not).
    if (code !== (code & 0xff)) return false
    const a = code & 0x0f
    // At most one of per kg and per m²; exactly one time base for a rate, none for an amount.
    const t = code & (UNIT_PER_MIN | UNIT_PER_H)
    if ((code & (UNIT_PER_KG | UNIT_PER_M2)) === UNIT_PER_KG + UNIT_PER_M2 || a >= AMT_COUNT || (rate ? t === 0 || t === UNIT_PER_MIN + UNIT_PER_H : t !== 0)) return false
    // mL: only "mL/h" (rate) or "mL" (amount), never per kg or per m².
    return a !== AMT_ML || ((code & (UNIT_PER_KG | UNIT_PER_M2)) === 0 && (!rate || t === UNIT_PER_H))
}

export function unitName(code: number): string {
    const a = code & 0x0f
    if (a >= AMT_COUNT) return "unit#" + code
    let s = AMOUNT_NAMES[a]
    if (code & UNIT_PER_KG) s += "/kg"
    if (code & UNIT_PER_M2) s += "/m2"
    if (code & UNIT_PER_MIN) s += "/min"
    else if (code & UNIT_PER_H) s += "/h"
    return s
}

export function amountName(amount: number): string {
    return amount >= 0 && amount < AMT_COUNT ? AMOUNT_NAMES[amount] : "amount#" + amount
}

/** Parses "mcg/kg/min", "units/h", "mg" ... into a code; -1 if unknown. Host tools and tests use it;
 *  the firmware only sees codes. */
export function parseUnit(text: string, rate: boolean): number {
    const parts = text.split("/")
    const a = AMOUNT_NAMES.indexOf(parts[0])
    if (a < 0) return -1
    let code = a
    let k = 1
    if (k < parts.length && parts[k] === "kg") {
        code |= UNIT_PER_KG
        k++
    } else if (k < parts.length && parts[k] === "m2") {
        code |= UNIT_PER_M2
        k++
    }
    if (k < parts.length) {
        if (parts[k] === "min") code |= UNIT_PER_MIN
        else if (parts[k] === "h") code |= UNIT_PER_H
        else return -1
        k++
    }
    if (k !== parts.length) return -1
    return isValidDoseUnit(code, rate) ? code : -1
}
