// REQ-PWR-006: after a power cut the volume that may have run since the last surviving save is
// counted as given, so the remaining VTBI and the dose windows err towards under-infusion, never a
// repeat. Each test boots, infuses on a virtual clock, cuts power just before the 30 s progress
// write and reboots; the expected figures come from rate x time and the syringe geometry.

import { describe, expect, it } from "vitest"
import { MemoryPageStore } from "../../src/core/log/pageStore"
import { AMT_MG } from "../../src/core/druglib/doseUnits"
import { InfusionProgram } from "../../src/core/program"
import { CONTROL_PERIOD_MS, PumpController } from "../../src/core/pump"
import { bootPump, run } from "./powerRig"

// BD Plastipak 50 mL, 26.59 mm bore, 3200 µsteps/mm: π·26.59²/4/3200 mm³ = 173,531 pL per µstep.
const PL = 173531
const INTERVAL_MS = 30000
// Worst-case age of the last surviving save: the 30 s interval plus 1 s for the poll, the log
// drain and an fstor erase of two 4 KB sectors (W25Q16JV tSE max 400 ms each).
const WORST_AGE_MS = INTERVAL_MS + 1000
const RATE = 1_200_000 // µL/h: 1200 mL/h moves 10 mL in 30 s

function ulToSteps(ul: number): number {
    return (ul * 1e6) / PL
}
/** Steps of the worst-case unsaved volume at `rateUlPerH`: rate x 31 s, rounded up to whole µL
 *  and then to whole steps (the counting may only err upwards). */
function boundSteps(rateUlPerH: number): number {
    return Math.ceil(ulToSteps(Math.ceil((rateUlPerH * WORST_AGE_MS) / 3_600_000)))
}

/** The last control tick before the progress write due at 120 s: the cut falls after it. */
const CUT_MS = 120_000 - CONTROL_PERIOD_MS

/** Control tick every CONTROL_PERIOD_MS and the persistence poll every 100 ms, as on the device; returns the
 *  steps fired (what the plunger physically moved). */
/** Infuses `p` from t = 0 and cuts power after the tick at CUT_MS, one control period before the progress write due at
 *  120 s (the last one that survives is the 90 s one); returns the fired steps and the reboot. */
function infuseAndCut(p: InfusionProgram, beforeCut?: (pump: PumpController) => void) {
    const snap = new MemoryPageStore(2, 192)
    const prog = new MemoryPageStore(2, 40)
    const a = bootPump(snap, prog, INTERVAL_MS)
    expect(a.pump.loadProgram(0, p).ok).toBe(true)
    if (beforeCut) beforeCut(a.pump)
    expect(a.pump.start(0).ok).toBe(true)
    const firedSteps = run(a.pump, a.safety, 0, CUT_MS)
    return { firedSteps, b: bootPump(snap, prog, INTERVAL_MS) }
}

describe("power restore counts the unsaved worst case as given (REQ-PWR-006)", () => {
    const P: InfusionProgram = { syringeId: "bd-plastipak-50", rateUlPerH: RATE, vtbiUl: 45_000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }

    it("1200 mL/h cut just before the progress write: counted >= delivered, at most rate x 31 s above it; remaining VTBI errs short", () => {
        const { firedSteps, b } = infuseAndCut(P)
        // Physics: 1200 mL/h until the last tick at CUT_MS (119.9 s at 100 ms: 39,967 µL; less the 0.1 s acceleration ramp: 9.6 µL at 20,000 µsteps/s²).
        const deliveredUl = (RATE * CUT_MS) / 3_600_000
        expect(firedSteps).toBeLessThanOrEqual(ulToSteps(deliveredUl))
        expect(firedSteps).toBeGreaterThanOrEqual(ulToSteps(deliveredUl - 10))
        // The last surviving save (90 s) holds ~30,000 µL: 10 mL is uncounted without the mitigation.
        const counted = b.pump.stepsCommanded()
        expect(counted).toBeGreaterThanOrEqual(firedSteps)
        expect(counted - firedSteps).toBeLessThanOrEqual(boundSteps(RATE))
        // Remaining VTBI: 45 mL minus the counted volume, never more than what really remains.
        const s = b.pump.status()
        expect(s.remainingUl).toBeLessThanOrEqual(45_000 - (firedSteps * PL) / 1e6)
        // The clinician sees it on the POWER_RESTORED alarm: saved + bound, true volume between.
        expect(s.alarmCode).toBe("POWER_RESTORED")
        const detail = b.log.ofKind("ALARM")[0].detail
        const m = /infused=(\d+)uL = saved (\d+) \+ (\d+)uL unsaved bound counted as given \(true volume between saved and infused\)/.exec(detail)
        expect(m).not.toBe(null)
        const [infusedUl, savedUl, addedUl] = [Number(m[1]), Number(m[2]), Number(m[3])]
        // Saved at 90 s: 30,000 µL less the ramp; added: 1200 mL/h x 31 s = 10,333.3 -> 10,334 µL.
        expect(savedUl).toBeGreaterThanOrEqual(30_000 - 10)
        expect(savedUl).toBeLessThanOrEqual(30_000)
        expect(addedUl).toBeGreaterThanOrEqual(10_333)
        expect(addedUl).toBeLessThanOrEqual(10_335)
        expect(infusedUl).toBe(savedUl + addedUl)
        expect(savedUl).toBeLessThanOrEqual(deliveredUl)
        expect(infusedUl).toBeGreaterThanOrEqual(Math.floor((firedSteps * PL) / 1e6))
        // Resumed to the end: the patient never gets more than the VTBI (45 mL = 259,320 whole steps).
        b.pump.resetAlarm(0)
        expect(b.pump.resume(0).ok).toBe(true)
        const after = run(b.pump, b.safety, CONTROL_PERIOD_MS, 3_600_000)
        expect(b.pump.state()).toBe("Complete")
        expect(firedSteps + after).toBeLessThanOrEqual(Math.floor(45_000e6 / PL))
        // ... and at most the bound less: an under-infusion of at most 1200 mL/h x 31 s.
        expect(Math.floor(45_000e6 / PL) - (firedSteps + after)).toBeLessThanOrEqual(boundSteps(RATE))
    })

    it("a cut 0.9 s into the 120 s progress write (poll 100 ms + two 4 KB sector erases, W25Q16JV tSE max 400 ms each): the 90 s save holds and the count still covers the truth", () => {
        const snap = new MemoryPageStore(2, 192)
        const prog = new MemoryPageStore(2, 40)
        const a = bootPump(snap, prog, INTERVAL_MS)
        a.pump.loadProgram(0, P)
        a.pump.start(0)
        let fired = run(a.pump, a.safety, 0, CUT_MS)
        // The 120 s write starts and is cut part-way; the motor runs on until the power is gone.
        prog.bytesWritten = 0
        prog.powerBudget = 10
        prog.tornByte = 0xff
        a.safety.poll(120_000, a.pump)
        for (let t = 120_000; t <= 120_900; t += CONTROL_PERIOD_MS) fired += a.pump.update(t).steps
        prog.restorePower()
        const b = bootPump(snap, prog, INTERVAL_MS)
        // 30.9 s at 1200 mL/h = 10,300 µL ran after the 90 s save: more than rate x 30 s (10,000 µL).
        expect(((fired * PL) / 1e6) - 30_000).toBeGreaterThan(10_000)
        expect(b.pump.stepsCommanded()).toBeGreaterThanOrEqual(fired)
        expect(b.pump.stepsCommanded() - fired).toBeLessThanOrEqual(boundSteps(RATE))
    })

    it("the worst case never counts more than the VTBI", () => {
        // VTBI 40.2 mL: 40.0 mL ran before the cut; saved 30 mL at 90 s + 10.3 mL bound would pass it.
        const { firedSteps, b } = infuseAndCut({ ...P, vtbiUl: 40_200 })
        expect(firedSteps).toBeLessThan(Math.floor(40_200e6 / PL))
        expect(b.pump.stepsCommanded()).toBe(Math.floor(40_200e6 / PL)) // 231,658 whole steps in 40.2 mL
        expect(b.pump.status().infusedUl).toBeLessThanOrEqual(40_200)
        // Resuming delivers nothing more: the VTBI is counted as given (the true shortfall is at most the bound).
        b.pump.resetAlarm(0)
        b.pump.resume(0)
        expect(run(b.pump, b.safety, CONTROL_PERIOD_MS, 600_000)).toBe(0)
    })

    it("KVO after the VTBI: the unsaved KVO run is counted too (up to the syringe's travel, not the VTBI)", () => {
        // 10 mL at 1200 mL/h ends at ~30 s (KVO saved at the change); 1 mL/h KVO until the cut at
        // 55 s, before the next progress write: ~25 s x 1 mL/h = 6.9 µL = ~40 steps beyond the VTBI.
        const snap = new MemoryPageStore(2, 192)
        const prog = new MemoryPageStore(2, 40)
        const a = bootPump(snap, prog, INTERVAL_MS)
        a.pump.loadProgram(0, { ...P, vtbiUl: 10_000, kvoRateUlPerH: 1000 })
        a.pump.start(0)
        const fired = run(a.pump, a.safety, 0, 55_000)
        expect(a.pump.state()).toBe("KVO")
        expect(fired - Math.floor(10_000e6 / PL)).toBeGreaterThanOrEqual(ulToSteps((1000 * 24) / 3600))
        const b = bootPump(snap, prog, INTERVAL_MS)
        expect(b.pump.stepsCommanded()).toBeGreaterThanOrEqual(fired)
        // At most ceil(1 mL/h x 31 s) = 9 µL = 52 steps above.
        expect(b.pump.stepsCommanded() - fired).toBeLessThanOrEqual(boundSteps(1000))
    })

    it("a dose window set after the restore counts the worst case as given: the patient never gets more than the maximum in the window", () => {
        // 1 mg/mL; 45 mg per 60 min. Physics: 39.99 mg ran in the 2 min before the cut, so at most
        // 5.0 mg more may run within the hour.
        const { firedSteps, b } = infuseAndCut({ ...P, vtbiUl: 48_000 })
        b.pump.resetAlarm(0)
        expect(b.pump.state()).toBe("Paused")
        expect(b.pump.setConcentration(0, AMT_MG, 50_000, 50_000).ok).toBe(true)
        // Dose given shows the counted worst case: at least what the plunger moved (1 µL = 1 µg here).
        expect(b.pump.status().doseGivenThousandths).toBeGreaterThanOrEqual((firedSteps * PL) / 1e6)
        expect(b.pump.setDoseLimit(0, 60, 45_000).ok).toBe(true)
        expect(b.pump.resume(0).ok).toBe(true)
        const after = run(b.pump, b.safety, CONTROL_PERIOD_MS, 30 * 60_000)
        expect(b.pump.status().alarmCode).toBe("DOSE_LIMIT")
        // Everything delivered in this hour (before and after the cut) stays within 45 mg = 45,000 µL.
        expect(((firedSteps + after) * PL) / 1e6).toBeLessThanOrEqual(45_000)
    })

    it("a bolus cut short before its first progress save counts as a bolus: the PCA lockout set after the restore applies", () => {
        // 60 mL/h background, 2 mL bolus over 60 s (120 mL/h); the bolus starts at 100 s, after the
        // 90 s progress save; the cut after the tick at CUT_MS leaves only the bolus-start snapshot (0 bolus steps).
        const snap = new MemoryPageStore(2, 192)
        const prog = new MemoryPageStore(2, 40)
        const a = bootPump(snap, prog, INTERVAL_MS)
        a.pump.loadProgram(0, { ...P, rateUlPerH: 60_000, bolusUl: 2000, bolusDurationS: 60 })
        a.pump.start(0)
        run(a.pump, a.safety, 0, 100_000)
        expect(a.pump.bolus(100_000).ok).toBe(true)
        run(a.pump, a.safety, 100_000 + CONTROL_PERIOD_MS, CUT_MS)
        expect(a.pump.state()).toBe("Bolus")
        // Physics: ~20 s of the 120 mL/h bolus = 667 µL ran as bolus before the cut.
        expect(a.pump.status().bolusUl).toBeGreaterThan(600)
        const b = bootPump(snap, prog, INTERVAL_MS)
        expect(b.pump.status().bolusUl).toBeGreaterThanOrEqual(a.pump.status().bolusUl)
        b.pump.resetAlarm(0)
        expect(b.pump.setBolusLockout(0, 300_000).ok).toBe(true)
        expect(b.pump.resume(0).ok).toBe(true)
        run(b.pump, b.safety, CONTROL_PERIOD_MS, 1000)
        const r = b.pump.bolus(1000)
        expect(r.ok).toBe(false)
        expect(r.reason).toContain("lockout")
    })
})
