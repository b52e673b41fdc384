// Integer unit helpers shared by firmware and host. The dosing core works in µL, µL/h, ms and
// microsteps so that no result depends on float formatting or on DeviceScript's rounding rules.

export const UL_PER_ML = 1000
export const PL_PER_UL = 1000000

/** Parses a plain decimal string ("10", "0.1", "12.345") into thousandths, exactly.
 *  Returns NaN for anything else (signs, exponents, more than 3 decimals, empty). */
export function parseThousandths(text: string): number {
    if (typeof text !== "string") return NaN
    const s = text.trim()
    if (s.length === 0 || s.length > 12) return NaN
    let whole = 0
    let frac = 0
    let fracDigits = 0
    let seenDot = false
    let digits = 0
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c === 46) {
            if (seenDot) return NaN
            seenDot = true
            continue
        }
        if (c < 48 || c > 57) return NaN
        const d = c - 48
        digits++
        if (seenDot) {
            if (fracDigits >= 3) return NaN
            frac = frac * 10 + d
            fracDigits++
        } else {
            whole = whole * 10 + d
        }
    }
    if (digits === 0) return NaN
    while (fracDigits < 3) {
        frac = frac * 10
        fracDigits++
    }
    return whole * 1000 + frac
}

function pad3(n: number): string {
    if (n < 10) return "00" + n
    if (n < 100) return "0" + n
    return "" + n
}

/** Formats thousandths as a fixed 3-decimal string ("10.000") with integer arithmetic only. */
export function formatThousandths(value: number): string {
    const v = Math.floor(value)
    const sign = v < 0 ? "-" : ""
    const a = v < 0 ? -v : v
    return sign + Math.floor(a / 1000) + "." + pad3(a % 1000)
}

/** True for finite whole numbers; guards every integer-unit field against NaN, floats and strings. */
export function isWholeNumber(v: any): boolean {
    return typeof v === "number" && v === v && Math.floor(v) === v && v < 9007199254740992 && v > -9007199254740992
}

/** floor(a / b) for non-negative integers, corrected so a rounded float quotient can never
 *  produce an off-by-one result. */
export function floorDiv(a: number, b: number): number {
    let q = Math.floor(a / b)
    let r = a - q * b
    while (r < 0) {
        q--
        r += b
    }
    while (r >= b) {
        q++
        r -= b
    }
    return q
}
