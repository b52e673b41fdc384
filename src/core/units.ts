// Units and the integer helpers shared by firmware and host.
//
// The dosing core works in integer µL, µL/h, ms and microsteps so that no result depends on float
// formatting or on DeviceScript's rounding rules. Every numeric name carries its unit as a suffix
// (camelCase `rateUlPerH`, constants `MAX_RATE_UL_PER_H`); a name without one is a count or a ratio.
//
// Glossary of suffixes:
//   Ms          milliseconds. Time is always injected (`nowMs` = ms since boot), never read here.
//   S           seconds (durations a user programs: bolusDurationS, loadingDurationS).
//   Min         minutes (dose-limit windows: windowMin). NB `hardMin`, `softMin` are minima.
//   H           hours, only inside rates (UlPerH) and dose-unit codes (UNIT_PER_H).
//   Ul          microlitres, the volume unit of the dosing core.
//   UlPerH      microlitres per hour, the rate unit of the dosing core.
//   Ml          millilitres, only for syringe nominal sizes and display (1 mL = UL_PER_ML µL).
//   Nl          nanolitres (infusedNl: sub-µL resolution for reports).
//   Pl          picolitres; PlPerMicrostep / picolitresPerMicrostep is the volume one microstep
//               moves (1 µL = PL_PER_UL pL).
//   Um          micrometres (plunger position, syringe bore, lead of the screw).
//   Mm          millimetres (microstepsPerMm, areaMm2).
//   Steps       microsteps: one step pulse to the driver moves one microstep (firedSteps,
//               vtbiSteps). Microsteps is the same unit spelt out; `fullStepsPerRev` counts full
//               steps of the motor, and `microsteps` in Mechanics is microsteps per full step.
//   StepsPerS2  microsteps per second squared (drive acceleration).
//   Mv          millivolts (battery).
//   Ma          milliamps (alarm LED and buzzer drive current).
//   MmHg        millimetres of mercury (line pressure; 1 mmHg = 133.322 Pa).
//   Adc, Counts raw ADC or encoder counts (0..ADC_FULL_SCALE_COUNTS = 4095 on the reference board);
//               pressureAdc is counts before calibration to mmHg.
//   Hz          hertz (buzzer tone).
//   G, Kg       grams (patient weight: weightG), kilograms only inside dose units (UNIT_PER_KG).
//   Bytes       bytes (record, slot and chunk sizes).
//   Thousandths a decimal quantity ×1000 as an integer (drug doses and concentrations:
//               "12.345" -> 12345); see parseThousandths / formatThousandths.
//   PerX        "per X" (UlPerH, PlPerMicrostep, StepsPerS2, MmHgPerUl...).
//
// Exported here:
//   UL_PER_ML          µL in one mL (1000).
//   PL_PER_UL          pL in one µL (1 000 000).
//   parseThousandths   "12.345" -> 12345 exactly; NaN for anything that is not a plain decimal.
//   formatThousandths  12345 -> "12.345", integer arithmetic only.
//   isWholeNumber      true for a finite whole number (guards integer-unit fields).
//   floorDiv           floor(a / b) for non-negative integers, exact where a float quotient rounds.
//   umod               a mod n in [0, n) for any integer a within ±2^53: THE rule for every `%`
//                      whose left operand can pass 2^31 - 1 or be negative (REQ-DRV-005).

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

/** Formats thousandths as a fixed 3-decimal string ("10.000") with integer arithmetic only. */
export function formatThousandths(value: number): string {
    const v = Math.floor(value)
    const sign = v < 0 ? "-" : ""
    const a = v < 0 ? -v : v
    const f = umod(a, 1000)
    // Three decimals: the fraction padded with leading zeros.
    return sign + Math.floor(a / 1000) + "." + (f < 10 ? "00" : f < 100 ? "0" : "") + f
}

/** True for finite whole numbers; guards every integer-unit field against NaN, floats and strings. */
export function isWholeNumber(v: any): boolean {
    return typeof v === "number" && v === v && Math.floor(v) === v && v < 9007199254740992 && v > -9007199254740992
}

/** a mod n in [0, n) for integers |a| < 2^53 and n > 0. The DeviceScript VM computes `%` in int32
 *  at run time (REQ-DRV-005): `4294967295 % 256` is -1 there and a ms counter past 2^31 (24.8 days)
 *  turns negative, while Node is exact. Every `%` whose left operand can leave 0..2^31-1 uses this. */
export function umod(a: number, n: number): number {
    return a - Math.floor(a / n) * n
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
