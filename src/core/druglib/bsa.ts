// Body surface area for mg/m² and units/m² dosing, by the Mosteller formula
//     BSA [m²] = sqrt(height [cm] × weight [kg] / 3600)
// (Mosteller RD, N Engl J Med 1987;317:1098). In the pump's integer units (height in mm, weight
// in g, BSA in thousandths of m²) the constants cancel exactly:
//     BSA [m²/1000] = sqrt(heightMm/10 × weightG/1000 / 3600) × 1000 = sqrt(heightMm × weightG / 36)
// and the result is the nearest thousandth, halves up: the largest n with 9·(2n−1)² <= heightMm ×
// weightG. Only integer products and comparisons decide n (Math.sqrt is only a first guess that
// is then corrected), so Node and the DeviceScript VM give the same answer.

import { isWholeNumber } from "../units"
import { outside } from "./model"

/** Plausibility limits of the pump (a drug library cannot widen them). Height 30..250 cm covers a
 *  preterm neonate to the tallest adults; weight as the library's ceiling (500 kg) and at least
 *  250 g; BSA 0.050..4.000 m² (Mosteller for 30 cm / 0.3 kg is 0.050 m²; 4 m² is beyond any
 *  recorded adult, so a larger figure is a typing error). */
export const MIN_HEIGHT_MM = 300
export const MAX_HEIGHT_MM = 2500
export const MIN_BSA_WEIGHT_G = 250
export const MAX_BSA_WEIGHT_G = 500000
export const MIN_BSA_THOUSANDTHS_M2 = 50
export const MAX_BSA_THOUSANDTHS_M2 = 4000

/** Mosteller BSA in thousandths of m² (nearest, halves up); -1 for inputs that are not positive
 *  whole numbers. Limits are checked by checkBsa, not here. */
export function mostellerThousandthsM2(heightMm: number, weightG: number): number {
    if (!isWholeNumber(heightMm) || !isWholeNumber(weightG) || heightMm <= 0 || weightG <= 0) return -1
    const x = heightMm * weightG // <= 2500 × 500000 = 1.25e9: exact in a double
    let n = Math.floor(Math.sqrt(x / 36) + 0.5)
    // Correct the float guess with exact integer tests: want 9(2n-1)² <= x < 9(2n+1)².
    while (n > 0 && 9 * (2 * n - 1) * (2 * n - 1) > x) n--
    while (9 * (2 * n + 1) * (2 * n + 1) <= x) n++
    return n
}

export interface BsaResult {
    /** BSA in thousandths of m²; -1 when refused. */
    bsaThousandthsM2: number
    reasons: string[]
}

/** Height and weight checked against the pump's limits, then BSA, then the BSA limits; reasons
 *  are appended to `reasons` when given (the returned list is then that one). */
export function checkBsa(heightMm: number, weightG: number, reasons?: string[]): BsaResult {
    // The caller's reason list when given (the dose checks), appended to; a new one otherwise.
    if (!reasons) reasons = []
    const n0 = reasons.length
    if (!isWholeNumber(heightMm)) reasons.push("height must be a whole number of mm")
    else if (outside(heightMm, MIN_HEIGHT_MM, MAX_HEIGHT_MM))
        reasons.push("height " + heightMm + (" mm is outside " + MIN_HEIGHT_MM + ".." + MAX_HEIGHT_MM + " mm"))
    if (!isWholeNumber(weightG)) reasons.push("weight must be a whole number of grams")
    else if (outside(weightG, MIN_BSA_WEIGHT_G, MAX_BSA_WEIGHT_G))
        reasons.push("weight " + weightG + (" g is outside " + MIN_BSA_WEIGHT_G + ".." + MAX_BSA_WEIGHT_G + " g for body surface area"))
    let bsa = -1
    if (reasons.length === n0) {
        bsa = mostellerThousandthsM2(heightMm, weightG)
        if (outside(bsa, MIN_BSA_THOUSANDTHS_M2, MAX_BSA_THOUSANDTHS_M2)) {
            reasons.push("body surface area " + bsa + ("/1000 m² (Mosteller) is outside " + MIN_BSA_THOUSANDTHS_M2 + ".." + MAX_BSA_THOUSANDTHS_M2 + "/1000 m²"))
            bsa = -1
        }
    }
    return { bsaThousandthsM2: bsa, reasons: reasons }
}
