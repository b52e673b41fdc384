// Syringe and drive-train model: turns a syringe barrel and the lead-screw mechanism into the
// volume one microstep displaces. Inner diameters are the manufacturers' published nominal
// values as collected in the Harvard Apparatus syringe table; each lot must be verified on the
// bench (docs/bench-testing.md) because ±1 % in diameter is ±2 % in volume.

import { floorDiv, PL_PER_UL, isWholeNumber } from "./units"

export interface SyringeSpec {
    id: string
    brand: string
    nominalMl: number
    /** Barrel inner diameter in µm (integer so tables never depend on float parsing). */
    innerDiameterUm: number
    /** Plunger travel from full to empty, in µm. */
    plungerTravelUm: number
}

export interface Mechanics {
    fullStepsPerRev: number
    microsteps: number
    /** Lead-screw lead (advance per revolution) in µm. */
    leadUm: number
}

/** Reference drive: 1.8° stepper, 16 microsteps, 1 mm lead screw -> 3200 µsteps per mm. */
export const REFERENCE_MECHANICS: Mechanics = { fullStepsPerRev: 200, microsteps: 16, leadUm: 1000 }

/** Highest microstep rate the reference drive is commanded at, in µsteps/s. Why 2000: the drive
 *  model (hil-tests/plant/plant.ts, an ASSUMPTION for a 0.3 N·m NEMA17 through a 1 mm lead at
 *  25 % efficiency) loses pull-out force linearly to zero at 20,000 µsteps/s; at 2,000 µsteps/s
 *  90 % (225 N) remains for the plunger, and the occlusion back-off already reverses at this speed
 *  (40 µsteps per 20 ms tick). On the reference screw that is a plunger speed of
 *  2000 / 3200 µsteps/mm = 0.625 mm/s (37.5 mm/min). */
export const REFERENCE_MAX_STEPS_PER_S = 2000

/** One table row (a call per row is smaller in the image than an object literal per row). */
function row(id: string, brand: string, nominalMl: number, innerDiameterUm: number, plungerTravelUm: number): SyringeSpec {
    return { id: id, brand: brand, nominalMl: nominalMl, innerDiameterUm: innerDiameterUm, plungerTravelUm: plungerTravelUm }
}

// prettier-ignore
export const SYRINGES: SyringeSpec[] = [
    //  id                 brand           nominalMl  innerDiameterUm  plungerTravelUm
    row("bd-plastipak-5", "BD Plastipak", 5, 11990, 44300),
    row("bd-plastipak-10", "BD Plastipak", 10, 14430, 61200),
    row("bd-plastipak-20", "BD Plastipak", 20, 19050, 70200),
    row("bd-plastipak-30", "BD Plastipak", 30, 21590, 82000),
    row("bd-plastipak-50", "BD Plastipak", 50, 26590, 90100),
    row("terumo-10", "Terumo", 10, 15800, 51000),
    row("terumo-20", "Terumo", 20, 20150, 62700),
    row("terumo-30", "Terumo", 30, 23100, 71600),
    row("terumo-50", "Terumo", 50, 29700, 72200),
]

export function findSyringe(id: string): SyringeSpec {
    for (let i = 0; i < SYRINGES.length; i++) {
        if (SYRINGES[i].id === id) return SYRINGES[i]
    }
    return null
}

export function microstepsPerMm(m: Mechanics): number {
    return (m.fullStepsPerRev * m.microsteps * 1000) / m.leadUm
}

/** Volume displaced by one microstep, in picolitres, rounded to the nearest pL (relative
 *  error below 1e-5 for every table entry; that is a calibration constant, not a drift). */
export function picolitresPerMicrostep(s: SyringeSpec, m: Mechanics): number {
    const dMm = s.innerDiameterUm / 1000
    const areaMm2 = (Math.PI * dMm * dMm) / 4 // 1 mm² × 1 mm = 1 µL
    return Math.floor((areaMm2 * PL_PER_UL) / microstepsPerMm(m) + 0.5)
}

/** Plunger speed limit of the drive in µm/s (for messages): maxStepsPerS / microstepsPerMm. */
export function maxPlungerSpeedUmPerS(m: Mechanics): number {
    return floorDiv(REFERENCE_MAX_STEPS_PER_S * m.leadUm, m.fullStepsPerRev * m.microsteps)
}

/** Highest rate the drive can push this syringe at, in µL/h, rounded down (never promise a rate
 *  the plunger cannot reach): maxStepsPerS × pL per microstep × 3600 s/h / 1e6 pL/µL. The pump's
 *  own ceiling (program.ts MAX_RATE_UL_PER_H) is applied on top of this by validateProgram.
 *  Makers' per-syringe rate data were not available to this project; the plunger limit is the
 *  only source (a maker limit that is lower must be added here as its own, cited, column). */
export function syringeMaxRateUlPerH(s: SyringeSpec, m: Mechanics): number {
    return floorDiv(REFERENCE_MAX_STEPS_PER_S * picolitresPerMicrostep(s, m) * 3600, PL_PER_UL)
}

/** Microsteps from a full syringe to an empty one. */
export function fullTravelMicrosteps(s: SyringeSpec, m: Mechanics): number {
    return Math.floor((s.plungerTravelUm * microstepsPerMm(m)) / 1000)
}

export function validateMechanics(m: Mechanics): string[] {
    const errors: string[] = []
    if (!isWholeNumber(m.fullStepsPerRev) || m.fullStepsPerRev < 24 || m.fullStepsPerRev > 400)
        errors.push("mechanics.fullStepsPerRev: must be a whole number 24..400")
    if (!isWholeNumber(m.microsteps) || m.microsteps < 1 || m.microsteps > 256)
        errors.push("mechanics.microsteps: must be a whole number 1..256")
    if (!isWholeNumber(m.leadUm) || m.leadUm < 250 || m.leadUm > 8000)
        errors.push("mechanics.leadUm: must be a whole number of µm 250..8000")
    return errors
}
