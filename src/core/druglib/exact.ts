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

/** Cancels every factor of `a` against every factor of `b` by their gcd (in place). */
function cancel(a: number[], b: number[]) {
    for (let i = 0; i < a.length; i++) {
        for (let j = 0; j < b.length; j++) {
            const g = gcd(a[i], b[j])
            if (g > 1) {
                a[i] = a[i] / g
                b[j] = b[j] / g
            }
        }
    }
}

/** Π a, or -1 when a partial product would pass MAX_EXACT (factors >= 0). */
function product(a: number[]): number {
    let x = 1
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== 0 && x > MAX_EXACT / a[i]) return -1
        x = x * a[i]
    }
    return x
}

/** round(Π num / Π den) to the nearest integer, halves up. All factors must be whole numbers
 *  >= 0 (den factors > 0). The arrays are modified (cancelled in place). */
export function ratioRound(num: number[], den: number[]): Quotient {
    let q = 0
    let r = 0
    // A zero factor (with a denominator) makes the quotient exactly 0.
    if (den.length === 0 || num.indexOf(0) < 0) {
        cancel(num, den)
        const n = product(num)
        const d = product(den)
        // Not computable exactly: -1, not exact (one result literal below).
        if (n < 0 || d < 0) {
            q = -1
            r = 1
        } else {
            q = floorDiv(n, d)
            r = n - q * d
            // Halves up (r = 0 never rounds: d >= 1).
            if (2 * r >= d) q++
        }
    }
    return { value: q, exact: r === 0 }
}

/** Compares Π a with Π b exactly: -1, 0 or 1; 2 if a product is out of the exact range. */
export function compareProducts(a: number[], b: number[]): number {
    cancel(a, b)
    const x = product(a)
    const y = product(b)
    if (x < 0 || y < 0) return 2
    return x < y ? -1 : x > y ? 1 : 0
}
