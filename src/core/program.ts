// Infusion program and its validation. Every field is an integer in µL, µL/h or s; anything
// else (NaN, a float, a string, a missing field) is refused with the field's name and reason.

import { Mechanics, maxPlungerSpeedUmPerS, REFERENCE_MECHANICS, syringeMaxRateUlPerH, SyringeSpec } from "./syringe"
import { formatThousandths, isWholeNumber, UL_PER_ML } from "./units"

export interface InfusionProgram {
    syringeId: string
    /** Primary rate in µL/h (1 mL/h = 1000). */
    rateUlPerH: number
    /** Volume to be infused in µL. */
    vtbiUl: number
    /** Keep-vein-open rate after VTBI in µL/h; 0 stops the pump at VTBI instead. */
    kvoRateUlPerH: number
    /** Bolus volume in µL; 0 means no bolus is programmed. */
    bolusUl: number
    bolusDurationS: number
}

/** Pump-wide mechanical limits (not drug limits; the drug library narrows these). */
export const MIN_RATE_UL_PER_H = 100 // 0.1 mL/h
export const MAX_RATE_UL_PER_H = 1200 * UL_PER_ML // 1200 mL/h
export const MAX_KVO_UL_PER_H = 5 * UL_PER_ML
export const MIN_BOLUS_UL = 100
export const MIN_BOLUS_DURATION_S = 1
export const MAX_BOLUS_DURATION_S = 3600

export interface ValidationResult {
    ok: boolean
    errors: string[]
}

function checkWhole(errors: string[], name: string, v: any, min: number, max: number, unit: string) {
    if (!isWholeNumber(v)) {
        errors.push(name + ": must be a whole number of " + unit)
        return false
    }
    if (v < min || v > max) {
        errors.push(name + ": " + v + " " + unit + " is outside " + min + ".." + max + " " + unit)
        return false
    }
    return true
}

/** Bolus rate in µL/h, rounded up so the bolus finishes within its programmed duration. */
export function bolusRateUlPerH(p: InfusionProgram): number {
    return Math.ceil((p.bolusUl * 3600) / p.bolusDurationS)
}

/** Highest rate (µL/h) allowed for this syringe on this drive: the lower of the syringe's plunger
 *  speed limit and the pump-wide maximum. One place for the rule; programs, boluses, titrations
 *  and loading doses are all checked against it. */
export function maxRateForSyringeUlPerH(syringe: SyringeSpec, m: Mechanics): number {
    const r = syringeMaxRateUlPerH(syringe, m)
    return r < MAX_RATE_UL_PER_H ? r : MAX_RATE_UL_PER_H
}

/** Reason a rate is above the syringe's limit, or "" when it is not. */
export function syringeRateProblem(what: string, rateUlPerH: number, syringe: SyringeSpec, m: Mechanics): string {
    const max = maxRateForSyringeUlPerH(syringe, m)
    if (rateUlPerH <= max) return ""
    if (max === MAX_RATE_UL_PER_H) return what + " needs " + formatThousandths(rateUlPerH) + " mL/h, more than the pump maximum of " + formatThousandths(MAX_RATE_UL_PER_H) + " mL/h"
    return what + " needs " + formatThousandths(rateUlPerH) + " mL/h, more than the " + formatThousandths(max) + " mL/h limit of the " + syringe.id +
        " syringe (plunger speed limit " + formatThousandths(maxPlungerSpeedUmPerS(m)) + " mm/s)"
}

/** Checks a program against the pump's limits and the syringe's rate limit on mechanics `m`
 *  (the reference drive when omitted). */
export function validateProgram(p: InfusionProgram, syringe: SyringeSpec, m?: Mechanics): ValidationResult {
    const mech = m ? m : REFERENCE_MECHANICS
    const errors: string[] = []
    // One exit (one result literal in the image): a missing program or syringe ends the checks.
    if (!p) errors.push("program: missing")
    else if (!syringe) errors.push("syringeId: unknown syringe '" + p.syringeId + "'")
    else {
        const capacityUl = syringe.nominalMl * UL_PER_ML
        if (checkWhole(errors, "rateUlPerH", p.rateUlPerH, MIN_RATE_UL_PER_H, MAX_RATE_UL_PER_H, "µL/h")) {
            const why = syringeRateProblem("rate", p.rateUlPerH, syringe, mech)
            if (why.length > 0) errors.push("rateUlPerH: " + why)
        }
        checkWhole(errors, "vtbiUl", p.vtbiUl, 1, capacityUl, "µL")
        if (checkWhole(errors, "kvoRateUlPerH", p.kvoRateUlPerH, 0, MAX_KVO_UL_PER_H, "µL/h")) {
            if (p.kvoRateUlPerH > 0 && p.kvoRateUlPerH < MIN_RATE_UL_PER_H)
                errors.push("kvoRateUlPerH: " + p.kvoRateUlPerH + " µL/h is below the pump minimum " + MIN_RATE_UL_PER_H)
            if (isWholeNumber(p.rateUlPerH) && p.kvoRateUlPerH > p.rateUlPerH)
                errors.push("kvoRateUlPerH: KVO rate must not exceed the primary rate")
        }
        if (checkWhole(errors, "bolusUl", p.bolusUl, 0, capacityUl, "µL") && p.bolusUl > 0) {
            if (p.bolusUl < MIN_BOLUS_UL) errors.push("bolusUl: " + p.bolusUl + " µL is below the minimum " + MIN_BOLUS_UL)
            if (checkWhole(errors, "bolusDurationS", p.bolusDurationS, MIN_BOLUS_DURATION_S, MAX_BOLUS_DURATION_S, "s")) {
                const why = syringeRateProblem("bolus over " + p.bolusDurationS + " s", bolusRateUlPerH(p), syringe, mech)
                if (why.length > 0) errors.push("bolusUl: " + why)
            }
        }
    }
    return { ok: errors.length === 0, errors: errors }
}
