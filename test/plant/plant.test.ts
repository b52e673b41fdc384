// Plant model physics checked against hand-computed values.

import { describe, expect, it } from "vitest"
import { createPlant, N_PER_MM2_PER_MMHG_EXPORT } from "./plantTestUtil"

const STEP_UL = 0.173531 // BD 50 mL, 3200 µsteps/mm

const carry = new WeakMap<object, number>()

/** Fires steps at the rate with a fractional carry kept per plant (like the DDA planner). */
function drive(p: ReturnType<typeof createPlant>, rateUlPerH: number, ms: number) {
    const sps = rateUlPerH / 3600 / STEP_UL
    let acc = carry.get(p) ?? 0
    for (let t = 0; t < ms; t += 20) {
        acc += sps * 0.02
        const n = Math.floor(acc)
        acc -= n
        p.advance(20, { steps: n, motorEnabled: true })
    }
    carry.set(p, acc)
}

const quiet = { artefactMeanIntervalS: 0, postureMeanIntervalS: 0, respirationMmHg: 0 }

describe("plant model", () => {
    it("open line: delivers what the plunger displaces, after the seal's start-up wind-up", () => {
        const p = createPlant({ seed: 1, ...quiet })
        drive(p, 10000, 3600000)
        const t = p.truth()
        // 10 mL/h for 1 h = 10000 µL commanded; wind-up (9 N / 100 N/mm = 0.09 mm = 50 µL) and
        // the pressure held in compliance (~0.3 mmHg·4.5) are not delivered.
        expect(t.deliveredUl).toBeGreaterThan(10000 - 80)
        expect(t.deliveredUl).toBeLessThan(10000)
        // Line pressure = venous + Q·R = 7 + 2.78 µL/s · 1.1 = 10.1 mmHg.
        expect(t.linePressureMmHg).toBeCloseTo(7 + (10000 / 3600) * 1.1, 0)
    })

    it("closed line: pressure rises at Q / (C + A²/k)", () => {
        const p = createPlant({ seed: 1, ...quiet })
        drive(p, 25000, 120000)
        p.setDownstreamOcclusion(true)
        const p0 = p.truth().linePressureMmHg
        drive(p, 25000, 60000)
        const slope = (p.truth().linePressureMmHg - p0) / 60
        // A = π·13.295² = 555.3 mm²; A²/k in µL/mmHg = 555.3²·133.322e-6/100/1000 = 0.411.
        const cEff = 4.5 + 0.411
        expect(slope).toBeGreaterThan(((25000 / 3600) / cEff) * 0.95)
        expect(slope).toBeLessThan(((25000 / 3600) / cEff) * 1.05)
    })

    it("load above the pull-out force loses steps: pressure caps at (F_pullout - F_kin)/A", () => {
        const p = createPlant({ seed: 1, ...quiet, pullOutForceN: 30 })
        p.setDownstreamOcclusion(true)
        drive(p, 100000, 600000)
        const capMmHg = (30 - 6) / (N_PER_MM2_PER_MMHG_EXPORT * 555.3)
        expect(p.truth().linePressureMmHg).toBeLessThan(capMmHg * 1.05)
        expect(p.truth().linePressureMmHg).toBeGreaterThan(capMmHg * 0.8)
        expect(p.missedSteps()).toBeGreaterThan(0)
        // The engine still counts them as fired: it cannot see missed steps.
        expect(p.sensors().firedSteps).toBeGreaterThan((p.pusherPositionUm() / 1000) * 3200 + 1000)
    })

    it("stalled motor: steps fired, pusher does not move", () => {
        const p = createPlant({ seed: 1, ...quiet })
        p.setMotorStalled(true)
        drive(p, 100000, 10000)
        expect(p.pusherPositionUm()).toBe(0)
        expect(p.sensors().firedSteps).toBeGreaterThan(1500)
    })

    it("disengaged plunger: no delivery, pressure settles to venous", () => {
        const p = createPlant({ seed: 1, ...quiet })
        drive(p, 25000, 60000)
        p.setPlungerEngaged(false)
        const d0 = p.truth().deliveredUl
        drive(p, 25000, 60000)
        expect(p.truth().deliveredUl - d0).toBeLessThan(40) // only the compliance empties
        expect(p.truth().linePressureMmHg).toBeCloseTo(7, 0)
        expect(p.sensors().plungerEngaged).toBe(false)
    })

    it("a bubble is seen for (bubble + window)/Q and reaches the patient after the line volume", () => {
        const p = createPlant({ seed: 1, ...quiet })
        drive(p, 36000, 30000) // 10 µL/s
        p.injectBubble(100)
        let seenMs = 0
        for (let t = 0; t < 200000; t += 20) {
            drive(p, 36000, 20)
            if (p.sensors().airInLine) seenMs += 20
        }
        expect(seenMs / 1000).toBeCloseTo((100 + 2.4) / 10, 0)
        // 200 s · 10 µL/s = 2000 µL passed > 1180 + 100: all of the bubble reached the patient.
        expect(p.truth().airDeliveredUl).toBeCloseTo(100, 0)
    })

    it("pressure sensor transfer and faults", () => {
        const p = createPlant({ seed: 1, ...quiet, pressure: { noiseCounts: 0, driftMmHgPerH: 0 } as never })
        expect(p.sensors().pressureAdc).toBe(Math.round(410 + 2.112 * 7))
        p.setPressureSensorFault("disconnected")
        expect(p.sensors().pressureAdc).toBeLessThan(10)
        p.setPressureSensorFault("shorted")
        expect(p.sensors().pressureAdc).toBe(4095)
        p.setPressureSensorFault("none")
        p.setPressureSensorFault("stuck")
        const a = p.sensors().pressureAdc
        p.setDownstreamOcclusion(true)
        drive(p, 100000, 20000)
        expect(p.sensors().pressureAdc).toBe(a)
    })

    it("deterministic with a seed; a different seed gives different noise", () => {
        const run = (seed: number) => {
            const p = createPlant({ seed })
            const out: number[] = []
            for (let i = 0; i < 50; i++) {
                p.advance(20, { steps: 1, motorEnabled: true })
                out.push(p.sensors().pressureAdc)
            }
            return out.join(",")
        }
        expect(run(5)).toBe(run(5))
        expect(run(5)).not.toBe(run(6))
    })

    it("flow meter lags by its time constant; balance reads mass at its resolution, minus evaporation", () => {
        const p = createPlant({ seed: 1, ...quiet, flowNoiseFraction: 0, flowNoiseFloorUlPerH: 0, balanceNoiseMg: 0, evaporationMgPerH: 3.6 })
        drive(p, 36000, 120000)
        expect(p.flowMeterUlPerH()).toBeGreaterThan(36000 * 0.9)
        const m = p.balanceMg()
        expect(Math.abs(m * 10 - Math.round(m * 10))).toBeLessThan(1e-6)
        // evaporation 3.6 mg/h over 120 s = 0.12 mg below the delivered volume.
        expect(m).toBeCloseTo(p.truth().deliveredUl - 0.12, 0)
    })
})
