// `bench --sim`: the real dosing core drives the HIL plant; the plant's balance is read through
// the MT-SICS parser and analysed. The analysis must agree with the plant's ground truth (the
// volume that really reached the vessel), which no part of the pipeline sees.

import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { analyse, DEFAULT_ANALYSIS } from "../../tools/bench/analysis"
import { BenchSample } from "../../tools/bench/samples"
import { PLANT_BALANCE_DENSITY, runSim } from "../../tools/bench/sim"
import { writeReport } from "../../tools/bench/report"

async function simulate(rateMlPerH: number, instrument: "balance" | "flowmeter") {
    const samples: BenchSample[] = []
    const truth = new Map<number, number>()
    const run = await runSim(
        { rateMlPerH, durationMin: 120, syringeId: "bd-plastipak-50", instrument, readEveryMs: 1000, seed: 7, occlusion: false },
        s => samples.push(s),
        undefined,
        (t, plant) => {
            if (t % 1_800_000 === 0) truth.set(t / 60_000, plant.truth().deliveredUl)
        },
    )
    const a = analyse(samples, { ...DEFAULT_ANALYSIS, rateMlPerH, liquidDensityGPerMl: PLANT_BALANCE_DENSITY })
    return { run, a, truth, samples }
}

describe("bench --sim pipeline against plant ground truth", () => {
    for (const rate of [1, 25]) {
        it(`${rate} mL/h: balance analysis matches the volume the plant delivered`, async () => {
            const { run, a, truth } = await simulate(rate, "balance")
            expect(run.malformed).toBe(0)
            expect(run.samples).toBe(7201)
            expect(a.complete).toBe(true)
            expect(a.trumpet.map(t => t.windowMin)).toEqual([2, 5, 11, 19, 31])
            // Mean flow over the second hour from ground truth; the balance (0.1 mg resolution,
            // noise) may differ by about one resolution step: 0.2 µL over the hour.
            const truthFlow = (truth.get(120)! - truth.get(60)!) / 1000
            expect(Math.abs(a.meanFlowMlPerH! - truthFlow)).toBeLessThan(0.0003)
            // For P = 2 and 5 min, disjoint windows tile the hour exactly (60/P whole), so the
            // overall mean is an average of window means: Ep(min) <= overall <= Ep(max).
            for (const t of a.trumpet.filter(x => 60 % x.windowMin === 0)) {
                expect(t.minPct).toBeLessThanOrEqual(a.overallAccuracyPct! + 1e-9)
                expect(t.maxPct).toBeGreaterThanOrEqual(a.overallAccuracyPct! - 1e-9)
            }
        })
    }
    it("flow meter instrument: integrated flow agrees with delivered volume to the meter's noise", async () => {
        const { a, truth } = await simulate(25, "flowmeter")
        const truthFlow = (truth.get(120)! - truth.get(60)!) / 1000
        // 3600 readings with 5 % noise each: the mean is good to ~0.1 %; allow 0.5 %.
        expect(Math.abs(a.meanFlowMlPerH! - truthFlow) / truthFlow).toBeLessThan(0.005)
    })
    it("occlusion test: the firmware's occlusion alarm is recorded and timed; a syringe-empty stop is flagged", async () => {
        const samples: BenchSample[] = []
        const run = await runSim(
            { rateMlPerH: 25, durationMin: 5, syringeId: "bd-plastipak-50", instrument: "balance", readEveryMs: 1000, seed: 3, occlusion: true },
            s => samples.push(s),
        )
        const a = analyse(samples, { ...DEFAULT_ANALYSIS, rateMlPerH: 25, periodMin: 5, analysisMin: 5, windowsMin: [2], liquidDensityGPerMl: 1 })
        expect(a.occlusions).toHaveLength(1)
        const occ = a.occlusions[0]
        const alarm = run.alarms.find(x => x.code.startsWith("OCCL"))!
        expect(alarm).toBeDefined()
        // The analysis times the alarm from the recorded events, to the millisecond.
        expect(occ.timeToAlarmS).toBeCloseTo(alarm.tMs / 1000 - occ.occludedAtS, 3)
        // Pressure has to build in the 4.5 µL/mmHg of syringe + line before any detector can see
        // it: at 6.94 µL/s that is well over a second for the first few mmHg.
        expect(occ.timeToAlarmS!).toBeGreaterThan(1)
        expect(Number.isFinite(occ.bolusUl)).toBe(true)
    })
    it("writes the report files", async () => {
        const { a } = await simulate(25, "balance")
        const dir = mkdtempSync(join(tmpdir(), "bench-report-"))
        const files = await writeReport(dir, a, { rateMlPerH: 25, source: "sim:balance", startedEpochMs: 0 }, {})
        for (const f of ["startup.svg", "trumpet.svg", "report.svg", "report.html", "analysis.json"]) expect(files).toContain(join(dir, f))
        // The trumpet chart plots both curves with one marker per window.
        expect((readFileSync(join(dir, "trumpet.svg"), "utf8").match(/<circle /g) ?? []).length).toBe(10)
        rmSync(dir, { recursive: true, force: true })
    })
})
