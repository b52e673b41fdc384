import { describe, expect, it } from "vitest"
import {
    findSyringe,
    fullTravelMicrosteps,
    microstepsPerMm,
    picolitresPerMicrostep,
    REFERENCE_MECHANICS,
    SYRINGES,
    validateMechanics,
} from "../../src/core/syringe"

describe("syringe model", () => {
    it("reference drive is 200 full steps x 16 microsteps per 1 mm of lead = 3200 µsteps/mm", () => {
        expect(microstepsPerMm(REFERENCE_MECHANICS)).toBe(3200)
    })

    it("BD Plastipak 50 mL (26.59 mm bore) displaces 173.53 nL per microstep", () => {
        // π·(13.295 mm)² = 555.30 mm² = 555.30 µL per mm of travel; / 3200 µsteps = 0.17353 µL.
        const s = findSyringe("bd-plastipak-50")
        expect(Math.abs(picolitresPerMicrostep(s, REFERENCE_MECHANICS) - 173530)).toBeLessThanOrEqual(2)
    })

    it("every table entry's full travel holds its nominal volume within 1 %", () => {
        for (const s of SYRINGES) {
            const r = s.innerDiameterUm / 2000 // mm
            const volumeUl = Math.PI * r * r * (s.plungerTravelUm / 1000)
            expect(Math.abs(volumeUl / (s.nominalMl * 1000) - 1)).toBeLessThan(0.01)
            const steps = fullTravelMicrosteps(s, REFERENCE_MECHANICS)
            const stepVolume = (steps * picolitresPerMicrostep(s, REFERENCE_MECHANICS)) / 1e6
            expect(Math.abs(stepVolume / volumeUl - 1)).toBeLessThan(1e-4)
        }
    })

    it("unknown syringe ids are not found", () => {
        expect(findSyringe("acme-999")).toBeNull()
    })

    it("rejects impossible mechanics with field names", () => {
        expect(validateMechanics({ fullStepsPerRev: 0, microsteps: 16, leadUm: 1000 })[0]).toMatch(/fullStepsPerRev/)
        expect(validateMechanics({ fullStepsPerRev: 200, microsteps: 0.5, leadUm: 1000 })[0]).toMatch(/microsteps/)
        expect(validateMechanics({ fullStepsPerRev: 200, microsteps: 16, leadUm: NaN })[0]).toMatch(/leadUm/)
        expect(validateMechanics(REFERENCE_MECHANICS)).toEqual([])
    })
})
