// Per-syringe rate limits (REQ-PROG-003). Expected figures come from the bore and the plunger
// speed limit of the reference drive: 2000 µsteps/s / 3200 µsteps/mm = 0.625 mm/s, so
// max rate = π·d²/4 [mm² = µL/mm] × 0.625 mm/s × 3600 s/h.
import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { InfusionProgram, maxRateForSyringeUlPerH, validateProgram } from "../../src/core/program"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { findSyringe, fullTravelMicrosteps, maxPlungerSpeedUmPerS, REFERENCE_MECHANICS, SYRINGES, syringeMaxRateUlPerH } from "../../src/core/syringe"

const PLUNGER_MM_PER_S = 0.625

function physicsMaxUlPerH(boreUm: number): number {
    const dMm = boreUm / 1000
    return ((Math.PI * dMm * dMm) / 4) * PLUNGER_MM_PER_S * 3600
}

const bd5 = findSyringe("bd-plastipak-5")
const base: InfusionProgram = { syringeId: "bd-plastipak-5", rateUlPerH: 10000, vtbiUl: 5000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }

describe("per-syringe rate limit from the plunger speed limit", () => {
    it("reference plunger speed limit is 2000 µsteps/s over 3200 µsteps/mm = 625 µm/s", () => {
        expect(maxPlungerSpeedUmPerS(REFERENCE_MECHANICS)).toBe(625)
    })

    it("every syringe's limit is π·d²/4 × 0.625 mm/s × 3600 s/h within 0.01 %, never above it by rounding", () => {
        for (const s of SYRINGES) {
            const want = physicsMaxUlPerH(s.innerDiameterUm)
            const got = syringeMaxRateUlPerH(s, REFERENCE_MECHANICS)
            expect(Math.abs(got / want - 1)).toBeLessThan(1e-4)
        }
    })

    it("BD 5 mL (11.99 mm bore): about 254 mL/h, so 1200 mL/h (empty in 15 s) is refused with the syringe named", () => {
        const max = maxRateForSyringeUlPerH(bd5, REFERENCE_MECHANICS)
        expect(Math.abs(max - 254_041)).toBeLessThan(30) // 112.907 mm² × 0.625 mm/s × 3600 s
        const r = validateProgram({ ...base, rateUlPerH: 1_200_000 }, bd5)
        expect(r.ok).toBe(false)
        expect(r.errors[0]).toMatch(/^rateUlPerH: rate needs 1200\.000 mL\/h, more than the 254\.0\d\d mL\/h limit of the bd-plastipak-5 syringe \(plunger speed limit 0\.625 mm\/s\)/)
        expect(validateProgram({ ...base, rateUlPerH: max }, bd5).ok).toBe(true)
        expect(validateProgram({ ...base, rateUlPerH: max + 1 }, bd5).ok).toBe(false)
    })

    it("at its limit the 5 mL syringe takes at least 44.3 mm / 0.625 mm/s = 70.9 s to empty, not 15 s", () => {
        const max = maxRateForSyringeUlPerH(bd5, REFERENCE_MECHANICS)
        const seconds = (5000 * 3600) / max
        expect(seconds).toBeGreaterThan(70)
        expect(fullTravelMicrosteps(bd5, REFERENCE_MECHANICS) / 2000).toBeGreaterThan(70)
    })

    it("BD 50 mL (26.59 mm): the plunger allows about 1249 mL/h, so the pump maximum 1200 mL/h applies", () => {
        const bd50 = findSyringe("bd-plastipak-50")
        expect(Math.abs(syringeMaxRateUlPerH(bd50, REFERENCE_MECHANICS) - 1_249_420)).toBeLessThan(150)
        expect(maxRateForSyringeUlPerH(bd50, REFERENCE_MECHANICS)).toBe(1_200_000)
        expect(validateProgram({ ...base, syringeId: "bd-plastipak-50", rateUlPerH: 1_200_000 }, bd50).ok).toBe(true)
    })

    it("a bolus faster than the syringe limit is refused: 1 mL over 10 s on 5 mL is 360 mL/h", () => {
        const r = validateProgram({ ...base, bolusUl: 1000, bolusDurationS: 10 }, bd5)
        expect(r.errors[0]).toMatch(/^bolusUl: bolus over 10 s needs 360\.000 mL\/h, more than the 254/)
        // 1 mL over 15 s = 240 mL/h is within 254 mL/h.
        expect(validateProgram({ ...base, bolusUl: 1000, bolusDurationS: 15 }, bd5).ok).toBe(true)
    })

    it("titration above the syringe limit is refused with the reason and the running rate is kept", () => {
        const log = new EventLog(100)
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
        expect(pump.loadProgram(0, base).ok).toBe(true)
        pump.start(0)
        pump.update(0)
        pump.update(CONTROL_PERIOD_MS)
        const r = pump.titrate(40, 300_000)
        expect(r.ok).toBe(false)
        expect(r.reason).toMatch(/limit of the bd-plastipak-5 syringe/)
        expect(pump.status().program.rateUlPerH).toBe(10000)
        expect(log.ofKind("CMD_REJECTED").length).toBe(1)
        expect(pump.titrate(60, 250_000).ok).toBe(true)
    })

    it("a smaller drive (2 mm lead) doubles the plunger speed and the limit", () => {
        const m = { ...REFERENCE_MECHANICS, leadUm: 2000 }
        expect(maxPlungerSpeedUmPerS(m)).toBe(1250)
        expect(Math.abs(syringeMaxRateUlPerH(bd5, m) / (2 * physicsMaxUlPerH(11990)) - 1)).toBeLessThan(1e-4)
    })
})
