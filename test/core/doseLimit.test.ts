// Run-time dose limits (REQ-DOSE-009). Morphine 1 mg/mL in a BD 50 mL: one microstep is
// 173.531 nL = 0.173531 mg, so 10 mg is floor(1e10 pL / 173531 pL) = 57626 steps.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { InfusionProgram } from "../../src/core/program"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { AMT_MG } from "../../src/core/druglib/doseUnits"
import { DoseWindowTracker } from "../../src/core/doseLimit"

const PL = 173531
const morphine: InfusionProgram = { syringeId: "bd-plastipak-50", rateUlPerH: 20_000, vtbiUl: 50_000, kvoRateUlPerH: 0, bolusUl: 2000, bolusDurationS: 60 }

function makePump(p: InfusionProgram = morphine) {
    const log = new EventLog(5000)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    expect(pump.loadProgram(0, p).ok).toBe(true)
    expect(pump.setConcentration(0, AMT_MG, 50_000, 50_000).ok).toBe(true) // 50 mg / 50 mL
    return { pump, log }
}

describe("run-time dose limits", () => {
    it("10 mg per 60 min at 20 mg/h stops at exactly 57626 steps (30 min), alarm DOSE_LIMIT, never one more", () => {
        const { pump, log } = makePump()
        expect(pump.setDoseLimit(0, 60, 10_000).ok).toBe(true)
        pump.start(0)
        let alarmAt = -1
        for (let t = 0; t <= 2_400_000; t += CONTROL_PERIOD_MS) {
            pump.update(t)
            if (alarmAt < 0 && pump.state() === "Alarm") alarmAt = t
        }
        expect(pump.stepsCommanded()).toBe(57626)
        expect(57626 * PL).toBeLessThanOrEqual(10_000 * 1e6) // 9.99998 mg <= 10 mg
        expect(pump.status().alarmCode).toBe("DOSE_LIMIT")
        // 10 mL at 20 mL/h = 1800 s.
        expect(Math.abs(alarmAt - 1_800_000)).toBeLessThan(200)
        expect(log.ofKind("ALARM").some(e => e.detail.startsWith("DOSE_LIMIT"))).toBe(true)
        // Reset and resume are refused while the window is full.
        pump.resetAlarm(2_400_020)
        const r = pump.resume(2_400_040)
        expect(r.ok).toBe(false)
        expect(r.reason).toMatch(/would exceed the maximum dose in 60 min/)
    })

    it("a bolus that would cross the window is refused before a step; a smaller remainder is not lost", () => {
        const { pump } = makePump()
        pump.setDoseLimit(0, 60, 10_000)
        pump.start(0)
        // 27 min at 20 mg/h = 9 mg delivered; a 2 mg bolus would make 11 mg.
        for (let t = 0; t <= 1_620_000; t += CONTROL_PERIOD_MS) pump.update(t)
        const before = pump.stepsCommanded()
        const r = pump.bolus(1_620_020)
        expect(r.ok).toBe(false)
        expect(r.reason).toMatch(/^bolus would exceed the maximum dose in 60 min/)
        expect(pump.state()).toBe("Running")
        expect(pump.stepsCommanded()).toBe(before)
    })

    it("PCA lockout: a second bolus 5 min after the first is refused with the wait, after 10 min allowed", () => {
        const { pump } = makePump({ ...morphine, rateUlPerH: 1000, bolusUl: 500, bolusDurationS: 30 })
        expect(pump.setBolusLockout(0, 600_000).ok).toBe(true)
        pump.start(0)
        expect(pump.bolus(1000).ok).toBe(true)
        for (let t = 1000; t <= 301_000; t += CONTROL_PERIOD_MS) pump.update(t)
        const r = pump.bolus(301_000)
        expect(r.ok).toBe(false)
        expect(r.reason).toBe("lockout: next bolus allowed in 300 s")
        for (let t = 301_020; t <= 601_000; t += CONTROL_PERIOD_MS) pump.update(t)
        expect(pump.bolus(601_000).ok).toBe(true)
    })

    it("a limit needs a concentration and a state where it can be set", () => {
        const log = new EventLog(20)
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
        pump.loadProgram(0, morphine)
        expect(pump.setDoseLimit(0, 60, 10_000).reason).toBe("set the concentration first")
        pump.setConcentration(0, AMT_MG, 50_000, 50_000)
        expect(pump.setDoseLimit(0, 241, 10_000).reason).toMatch(/window must be 1..240 min/)
        expect(pump.setDoseLimit(0, 60, 0).ok).toBe(false)
        pump.start(0)
        expect(pump.setDoseLimit(20, 60, 10_000).ok).toBe(false)
    })

    it("property: no sequence of start, bolus, titration, pause, resume and alarm resets crosses a window", () => {
        // Windows of 2 and 5 min keep the simulation short; the tracker does not depend on the length.
        const cmd = fc.record({
            kind: fc.constantFrom("bolus", "titrate", "pause", "resume", "reset", "start", "wait"),
            rate: fc.integer({ min: 1000, max: 300_000 }),
            waitMs: fc.integer({ min: 20, max: 90_000 }),
        })
        fc.assert(
            fc.property(fc.array(cmd, { minLength: 1, maxLength: 25 }), fc.integer({ min: 200, max: 3000 }), fc.integer({ min: 500, max: 8000 }), (cmds, max2Mg, max5Mg) => {
                const { pump } = makePump({ ...morphine, rateUlPerH: 60_000, bolusUl: 1000, bolusDurationS: 10 })
                pump.setDoseLimit(0, 2, max2Mg)
                pump.setDoseLimit(0, 5, max5Mg)
                const cap2 = Math.floor((max2Mg * 1e6) / PL)
                const cap5 = Math.floor((max5Mg * 1e6) / PL)
                pump.start(0)
                const fired: [number, number][] = []
                let t = 0
                for (const c of cmds) {
                    if (c.kind === "bolus") pump.bolus(t)
                    else if (c.kind === "titrate") pump.titrate(t, c.rate)
                    else if (c.kind === "pause") pump.pause(t)
                    else if (c.kind === "resume") pump.resume(t)
                    else if (c.kind === "start") pump.start(t)
                    else if (c.kind === "reset") pump.resetAlarm(t)
                    const end = t + c.waitMs
                    for (; t < end; t += CONTROL_PERIOD_MS) {
                        const n = pump.update(t).steps
                        if (n > 0) fired.push([t, n])
                    }
                }
                // Independent check: every interval (t - W, t] ending at a firing tick.
                for (let i = 0; i < fired.length; i++) {
                    let s2 = 0
                    let s5 = 0
                    for (let j = i; j >= 0 && fired[j][0] > fired[i][0] - 300_000; j--) {
                        if (fired[j][0] > fired[i][0] - 120_000) s2 += fired[j][1]
                        s5 += fired[j][1]
                    }
                    if (s2 > cap2 || s5 > cap5) return false
                }
                return true
            }),
            { numRuns: 40 }
        )
    })

    it("tracker: a window counts the current minute and the W before it, and forgets older ones", () => {
        const w = new DoseWindowTracker()
        w.advance(0)
        expect(w.addLimit(2, 100)).toBe("")
        w.add(60) // minute 0
        w.advance(60_000)
        w.add(30) // minute 1
        expect(w.allowance()).toBe(10)
        w.advance(180_000) // minute 3: window covers minutes 1..3
        expect(w.windowSteps(0)).toBe(30)
        w.advance(240_000) // minute 4: minutes 2..4
        expect(w.allowance()).toBe(100)
    })
})
