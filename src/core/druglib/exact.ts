// Exact integer conversion of a product of factors divided by a product of factors. Every factor
// is cancelled against every other by their gcd first, then the products are formed with an
// explicit check that they stay below 2^53 (where doubles stop being exact integers). A result
// that cannot be computed exactly is refused (-1), never approximated.

import { floorDiv, umod } from "../units"

export const MAX_EXACT = 9007199254740991

/** Greatest common divisor of two non-negative integers up to MAX_EXACT. The remainder is
 *  umod, not `%` (REQ-DRV-005: `4294967295 % 255` is -1 in the VM). */
export function gcd(a: number, b: number): number {
    while (b !== 0) {
        const t = umod(a, b)
        a = b
        b = t
    }
    return a
}

export interface Quotient {
    /** Nearest integer to num/den (halves round up); -1 when not computable exactly. */
    value: number
    /** True when num/den is a whole number (no rounding was needed). */
    exact: boolean
}

/** round(Π num / Π den) to the nearest integer, halves up. All factors must be whole numbers
 *  >= 0 (den factors > 0). The arrays are modified (cancelled in place). */
export function ratioRound(num: number[], den: number[]): Quotient {
    for (let i = 0; i < num.length; i++) {
        for (let j = 0; j < den.length; j++) {
            if (num[i] === 0) return { value: 0, exact: true }
            const g = gcd(num[i], den[j])
            if (g > 1) {
                num[i] = num[i] / g
                den[j] = den[j] / g
            }
        }
    }
    let n = 1
    for (let i = 0; i < num.length; i++) {
        if (num[i] !== 0 && n > MAX_EXACT / num[i]) return { value: -1, exact: false }
        n = n * num[i]
    }
    let d = 1
    for (let j = 0; j < den.length; j++) {
        if (d > MAX_EXACT / den[j]) return { value: -1, exact: false }
        d = d * den[j]
    }
    // n and d are exact integers < 2^53; floorDiv corrects the float division's rounding.
    const q = floorDiv(n, d)
    const r = n - q * d
    if (r === 0) return { value: q, exact: true }
    return { value: 2 * r >= d ? q + 1 : q, exact: false }
}

/** Compares Π a with Π b exactly: -1, 0 or 1; 2 if a product is out of the exact range. */
export function compareProducts(a: number[], b: number[]): number {
    for (let i = 0; i < a.length; i++) {
        for (let j = 0; j < b.length; j++) {
            const g = gcd(a[i], b[j])
            if (g > 1) {
                a[i] = a[i] / g
                b[j] = b[j] / g
            }
        }
    }
    let x = 1
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== 0 && x > MAX_EXACT / a[i]) return 2
        x = x * a[i]
    }
    let y = 1
    for (let j = 0; j < b.length; j++) {
        if (b[j] !== 0 && y > MAX_EXACT / b[j]) return 2
        y = y * b[j]
    }
    return x < y ? -1 : x > y ? 1 : 0
}
