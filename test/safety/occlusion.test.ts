// Downstream occlusion in the closed loop (real core + plant). Expected times come from the
// physics: with the line closed, pressure rises at Q/C, so a 20 mmHg trend threshold is crossed
// after C·20/Q; the detector adds its filter (31 s median → ~15 s), 10 s confirmation and, at
// high rates, its 20 s minimum window. Coarse sweep here; the full sweep is `npm run bench:safety`.

import { describe, expect, it } from "vitest"
import { OCCLUSION_DEFAULTS, OcclusionDetector, PRESSURE_CEILING_MMHG } from "../../src/core/safety/occlusion"
import { ClosedLoop, programAt } from "../../hil-tests/host/closedLoop"
import { runOcclusionTrial, runSoak } from "../../hil-tests/host/scenarios"
import { createPlant } from "../../hil-tests/plant/index"

const NOMINAL_C = 4.5 // plant: 2.5 (50 mL stopper) + 2.0 (line) µL/mmHg

describe("downstream occlusion: time to alarm over rate x compliance", () => {
    for (const rate of [1000, 25000]) {
        for (const cf of [0.5, 1, 1.5]) {
            const C = NOMINAL_C * cf
            const q = rate / 3600 // µL/s
            const physS = (C * 20) / q
            const slackS = rate <= 1000 ? 180 : 45
            it(`${rate / 1000} mL/h, C = ${C} µL/mmHg: alarm within C·20/Q + ${slackS} s = ${Math.round(physS + slackS)} s`, () => {
                const r = runOcclusionTrial({
                    rateUlPerH: rate,
                    level: "medium",
                    seed: 7,
                    plant: { lineComplianceUlPerMmHg: 2 * cf, syringeComplianceUlPerMmHg: 2.5 * cf },
                })
                expect(r.falseAlarm).toBe("")
                expect(r.timeToAlarmMs / 1000).toBeLessThanOrEqual(physS + slackS)
                // Not before the physics allows: the rise must have happened (no lucky trigger).
                expect(r.timeToAlarmMs / 1000).toBeGreaterThanOrEqual(physS * 0.5)
                expect(Math.abs(r.bolusUl)).toBeLessThan(200)
            })
        }
    }

    it("targets with the standard 50 mL syringe and line: < 10 min at 1 mL/h, < 1 min at 25 mL/h", () => {
        expect(runOcclusionTrial({ rateUlPerH: 1000, level: "medium", seed: 3 }).timeToAlarmMs).toBeLessThan(600000)
        expect(runOcclusionTrial({ rateUlPerH: 25000, level: "medium", seed: 3 }).timeToAlarmMs).toBeLessThan(60000)
    })
})

describe("absolute limit and ceiling", () => {
    it("with the trend disabled, the 300 mmHg limit trips at C·(300 - P0)/Q (±25 %)", () => {
        // 25 mL/h = 6.944 µL/s, C = 4.5 (+0.41 drive-train) µL/mmHg, P0 ≈ 7 + Q·R = 14.6 mmHg.
        const plant = createPlant({ seed: 4, artefactMeanIntervalS: 0, postureMeanIntervalS: 0 })
        const loop = new ClosedLoop({
            plant,
            program: programAt(25000),
            safety: { occlusion: { ...OCCLUSION_DEFAULTS, level: "low", riseMmHg: 5000 } },
        })
        loop.runFor(60000)
        plant.setDownstreamOcclusion(true)
        const t0 = loop.nowMs
        expect(loop.runFor(600000, l => l.alarmLatched("OCCL_DOWN"))).toBe(true)
        const expectS = ((NOMINAL_C + 0.41) * (300 - 14.6)) / (25000 / 3600)
        const gotS = (loop.nowMs - t0) / 1000
        expect(gotS).toBeGreaterThan(expectS * 0.75)
        expect(gotS).toBeLessThan(expectS * 1.25 + 16) // + median delay
        expect(plant.truth().linePressureMmHg).toBeGreaterThan(290)
    })

    it("the 20 psi ceiling trips on the 1 s mean even with the 900 mmHg level, before the median moves", () => {
        const d = new OcclusionDetector({ ...OCCLUSION_DEFAULTS, level: "high" })
        let t = 0
        for (; t < 60000; t += 20) expect(d.update(t, 10, 0.05, true).alarm).toBe(false)
        let alarmAt = -1
        for (; t < 63000 && alarmAt < 0; t += 20) if (d.update(t, PRESSURE_CEILING_MMHG + 5, 0.05, true).alarm) alarmAt = t
        expect(PRESSURE_CEILING_MMHG).toBe(1034) // 20 psi × 51.715 mmHg/psi
        expect(alarmAt).toBeGreaterThan(0)
        expect(alarmAt - 60000).toBeLessThanOrEqual(1000)
    })
})

describe("after the alarm", () => {
    it("back-off keeps the bolus on release under 0.2 mL; without it the stored volume exceeds 0.2 mL", () => {
        const withB = runOcclusionTrial({ rateUlPerH: 25000, level: "medium", seed: 5 })
        expect(Math.abs(withB.bolusUl)).toBeLessThan(200)
        // Stored volume at the alarm: C·(P - Pv) = 4.5·(~78 - 7) ≈ 320 µL: the hazard is real.
        expect(withB.storedAtAlarmUl).toBeGreaterThan(200)
        const plant = createPlant({ seed: 5 })
        const loop = new ClosedLoop({ plant, program: programAt(25000), safety: { backoffStepsPerS: 0 } })
        loop.runFor(600000)
        plant.setDownstreamOcclusion(true)
        expect(loop.runFor(600000, l => l.alarmLatched("OCCL_DOWN"))).toBe(true)
        loop.runFor(30000)
        const before = plant.truth().deliveredUl
        plant.setDownstreamOcclusion(false)
        loop.runFor(60000)
        expect(plant.truth().deliveredUl - before).toBeGreaterThan(200)
    })

    it("a restart against an uncleared occlusion re-alarms (every time); a cleared one runs", () => {
        const plant = createPlant({ seed: 6 })
        const loop = new ClosedLoop({ plant, program: programAt(1000) })
        loop.runFor(1800000)
        plant.setDownstreamOcclusion(true)
        const t0 = loop.nowMs
        expect(loop.runFor(3600000, l => l.alarmLatched("OCCL_DOWN"))).toBe(true)
        const first = loop.nowMs - t0
        loop.runFor(30000)
        expect(loop.monitor.isBackingOff()).toBe(false)
        loop.monitor.acknowledge(loop.nowMs)
        expect(loop.alarmLatched("OCCL_DOWN")).toBe(false)
        expect(loop.pump.state()).toBe("Paused")
        for (let k = 0; k < 3; k++) {
            expect(loop.pump.resume(loop.nowMs).ok).toBe(true)
            const t1 = loop.nowMs
            expect(loop.runFor(3600000, l => l.alarmLatched("OCCL_DOWN"))).toBe(true)
            // The back-off left the drive spring in tension: the restart first winds it up again
            // (~0.18 mm = 100 µL = 6 min at 1 mL/h) before pressure can rise, so allow 1.5×.
            expect(loop.nowMs - t1).toBeLessThan(first * 1.5)
            loop.runFor(30000)
            loop.monitor.acknowledge(loop.nowMs)
        }
        plant.setDownstreamOcclusion(false)
        loop.pump.resume(loop.nowMs)
        expect(loop.runFor(3600000, l => l.monitor.alarms.latchedCount() > 0)).toBe(false)
        expect(loop.monitor.occlusion.isSuspect()).toBe(false)
    })
})

describe("no false alarm", () => {
    it("24 h at 1 mL/h with sensor noise, drift, stick-slip, movement artefacts and posture changes", () => {
        const r = runSoak(1000, 24, 21)
        expect(r.alarms).toEqual([])
        expect(r.hours).toBeGreaterThanOrEqual(24)
    })

    it("2 h at 25 mL/h and at 100 mL/h (syringe changes included)", () => {
        expect(runSoak(25000, 2, 22).alarms).toEqual([])
        expect(runSoak(100000, 2, 23).alarms).toEqual([])
    })
})
