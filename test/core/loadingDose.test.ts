// Loading dose as its own phase (REQ-DOSE-007) and the dose/volume display (REQ-DOSE-008).
// Expected figures are from the step volume of a BD 50 mL on the reference drive:
// π·(13.295 mm)²/3200 = 173.531 nL per microstep.
import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { InfusionProgram } from "../../src/core/program"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { AMT_MG, AMT_UNITS } from "../../src/core/druglib/doseUnits"
import { VolumeAccount } from "../../src/core/volume"

const PL = 173531
const maintenance: InfusionProgram = { syringeId: "bd-plastipak-50", rateUlPerH: 10_000, vtbiUl: 10_000, kvoRateUlPerH: 0, bolusUl: 500, bolusDurationS: 60 }

function makePump(p: InfusionProgram = maintenance) {
    const log = new EventLog(2000)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    expect(pump.loadProgram(0, p).ok).toBe(true)
    return { pump, log }
}

function runUntil(pump: PumpController, from: number, to: number, stop?: () => boolean) {
    let steps = 0
    let t = from
    for (; t <= to; t += CONTROL_PERIOD_MS) {
        steps += pump.update(t).steps
        if (stop && stop()) break
    }
    return { steps, t }
}

describe("loading dose phase", () => {
    it("2 mL over 60 s runs at 120 mL/h, delivers floor(2e9 pL / 173531 pL) = 11525 steps, then 10 mL/h", () => {
        const { pump, log } = makePump()
        expect(pump.setLoadingDose(0, 2000, 60).ok).toBe(true)
        expect(pump.start(0).ok).toBe(true)
        expect(pump.state()).toBe("Loading")
        pump.update(0)
        pump.update(CONTROL_PERIOD_MS)
        expect(pump.status().rateUlPerH).toBe(120_000) // 2000 µL × 3600 s/h / 60 s
        const r = runUntil(pump, 2 * CONTROL_PERIOD_MS, 70_000, () => pump.state() !== "Loading")
        expect(pump.state()).toBe("Running")
        expect(pump.stepsCommanded()).toBe(11525) // 11525 × 173.531 nL = 1999.94 µL <= 2000 µL
        expect(pump.status().loadingGivenUl).toBe(1999)
        // 11525 steps at 120 mL/h (192.08 steps/s) take 60.00 s; the ramp adds under one tick.
        expect(r.t).toBeGreaterThanOrEqual(59_980)
        expect(r.t).toBeLessThanOrEqual(60_000 + 2 * CONTROL_PERIOD_MS)
        expect(log.ofKind("LOADING_DONE")).toHaveLength(1)
        // Then the maintenance rate: 60 s at 10 mL/h = 166.67 µL = 960.4 steps.
        const after = runUntil(pump, r.t + CONTROL_PERIOD_MS, r.t + 60_000).steps
        expect(Math.abs(after - 960.4)).toBeLessThanOrEqual(2)
        expect(pump.status().rateUlPerH).toBe(10_000)
    })

    it("is counted in the dose given: 1 mg/mL after the loading phase shows 2.000 mg (1999.94 µL)", () => {
        const { pump } = makePump()
        pump.setLoadingDose(0, 2000, 60)
        expect(pump.setConcentration(0, AMT_MG, 50_000, 50_000).ok).toBe(true) // 50 mg in 50 mL
        pump.start(0)
        runUntil(pump, 0, 70_000, () => pump.state() !== "Loading")
        expect(pump.status().doseAmountUnit).toBe(AMT_MG)
        expect(pump.status().doseGivenThousandths).toBe(2000) // 1.99994 mg -> 2.000
    })

    it("a pause or an alarm during loading resumes the loading phase, and the total stays 11525 steps", () => {
        const { pump } = makePump()
        pump.setLoadingDose(0, 2000, 60)
        pump.start(0)
        runUntil(pump, 0, 20_000)
        expect(pump.pause(20_020).ok).toBe(true)
        runUntil(pump, 20_040, 30_000)
        expect(pump.resume(30_020).ok).toBe(true)
        expect(pump.state()).toBe("Loading")
        runUntil(pump, 30_040, 40_000)
        pump.raiseAlarm(40_020, "DOOR_OPEN", "test")
        expect(pump.resetAlarm(40_040).ok).toBe(true)
        expect(pump.state()).toBe("Paused")
        pump.resume(40_060)
        expect(pump.state()).toBe("Loading")
        runUntil(pump, 40_080, 200_000, () => pump.state() !== "Loading")
        expect(pump.state()).toBe("Running")
        expect(pump.status().loadingGivenUl).toBe(1999)
        expect(pump.stepsCommanded()).toBe(11525)
    })

    it("is checked against its own limits with a reason: minimum volume, VTBI, duration, syringe rate, state", () => {
        const { pump, log } = makePump()
        expect(pump.setLoadingDose(0, 99, 60).reason).toMatch(/below the minimum 100/)
        expect(pump.setLoadingDose(0, 10_001, 600).reason).toMatch(/more than the VTBI 10000/)
        expect(pump.setLoadingDose(0, 2000, 0).reason).toMatch(/loadingDurationS/)
        expect(pump.setLoadingDose(0, 2000, 1.5).reason).toMatch(/loadingDurationS/)
        // 5 mL over 10 s = 1800 mL/h, above the pump maximum for this syringe.
        expect(pump.setLoadingDose(0, 5000, 10).reason).toMatch(/more than the pump maximum of 1200\.000 mL\/h/)
        expect(log.ofKind("CMD_REJECTED").length).toBe(5)
        const small = makePump({ ...maintenance, syringeId: "bd-plastipak-5", vtbiUl: 5000 }).pump
        // 2 mL over 20 s = 360 mL/h, above the BD 5 mL limit of 254 mL/h.
        expect(small.setLoadingDose(0, 2000, 20).reason).toMatch(/limit of the bd-plastipak-5 syringe/)
        expect(pump.setLoadingDose(0, 2000, 60).ok).toBe(true)
        pump.start(0)
        expect(pump.setLoadingDose(20, 1000, 60).ok).toBe(false) // not while delivering
        expect(pump.bolus(40).ok).toBe(false) // no bolus during the loading phase
        expect(pump.titrate(60, 20_000).ok).toBe(false) // nor a titration
    })

    it("a loading dose equal to the VTBI completes the infusion without a maintenance phase", () => {
        const { pump } = makePump({ ...maintenance, vtbiUl: 1000 })
        pump.setLoadingDose(0, 1000, 30)
        pump.start(0)
        runUntil(pump, 0, 40_000)
        expect(pump.state()).toBe("Complete")
        expect(pump.stepsCommanded()).toBe(5762) // floor(1e9 / 173531)
    })

    it("is not repeated: stop during loading then start delivers only the rest; a new program forgets it", () => {
        const { pump } = makePump()
        pump.setLoadingDose(0, 2000, 60)
        pump.start(0)
        runUntil(pump, 0, 30_000)
        pump.stop(30_020)
        pump.start(30_040)
        expect(pump.state()).toBe("Loading")
        runUntil(pump, 30_040, 200_000, () => pump.state() !== "Loading")
        expect(pump.stepsCommanded()).toBe(11525)
        const fresh = makePump().pump
        fresh.setLoadingDose(0, 2000, 60)
        fresh.loadProgram(10, maintenance)
        fresh.start(20)
        expect(fresh.state()).toBe("Running")
    })
})

describe("infused volume and dose display (rounding rule)", () => {
    it("a completed 1000 µL program holds 5762 × 173.531 nL = 999.886 µL: accounting 999, display 1000", () => {
        const { pump } = makePump({ ...maintenance, vtbiUl: 1000, rateUlPerH: 100_000 })
        pump.start(0)
        runUntil(pump, 0, 60_000)
        expect(pump.state()).toBe("Complete")
        const s = pump.status()
        expect(s.infusedNl).toBe(999_885) // 999,885,622 pL
        expect(s.infusedUl).toBe(999)
        expect(s.infusedDisplayUl).toBe(1000)
    })

    it("display rounds to the nearest µL with halves up (0.5 µL per step: 1 step -> 1, 3 steps -> 2)", () => {
        const half = new VolumeAccount(500_000)
        half.add(1, false)
        expect(half.displayUl()).toBe(1)
        half.add(2, false)
        expect(half.displayUl()).toBe(2) // 1.5 µL
        const under = new VolumeAccount(499_999)
        under.add(1, false)
        expect(under.displayUl()).toBe(0) // 0.499999 µL
    })

    it("dose given in the drug's unit: 500 units/mL over 999.886 µL = 499.943 units", () => {
        const { pump } = makePump({ ...maintenance, vtbiUl: 1000, rateUlPerH: 100_000 })
        expect(pump.status().doseGivenThousandths).toBe(-1) // no concentration: nothing claimed
        pump.setConcentration(0, AMT_UNITS, 25_000_000, 50_000) // 25,000 units in 50 mL
        pump.start(0)
        runUntil(pump, 0, 60_000)
        expect(pump.status().doseGivenThousandths).toBe(499_943) // 999.885622 µL × 0.5 units/µL
    })

    it("refuses a concentration that is not a positive whole amount, or without a program", () => {
        const log = new EventLog(10)
        const empty = new PumpController(REFERENCE_PUMP_CONFIG, log)
        expect(empty.setConcentration(0, AMT_MG, 1000, 1000).ok).toBe(false)
        const { pump } = makePump()
        expect(pump.setConcentration(0, AMT_MG, 0, 1000).ok).toBe(false)
        expect(pump.setConcentration(0, 0, 1000, 1000).ok).toBe(false) // mL is not a drug amount
        expect(pump.setConcentration(0, AMT_MG, 1000, 1.5).ok).toBe(false)
    })
})
