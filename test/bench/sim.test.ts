// `bench --sim`: the real dosing core drives the HIL plant; the plant's balance is read through
// the MT-SICS parser and analysed. The analysis must agree with the plant's ground truth (the
// volume that really reached the vessel), which no part of the pipeline sees.

import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { analyse, DEFAULT_ANALYSIS } from "../../tools/bench/analysis"
import { BenchSample } from "../../tools/bench/samples"
import { loadPlant, runSim } from "../../tools/bench/sim"
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
    const { balanceDensityGPerMl } = await loadPlant({ syringeId: "bd-plastipak-50", seed: 7 })
    const a = analyse(samples, { ...DEFAULT_ANALYSIS, rateMlPerH, liquidDensityGPerMl: balanceDensityGPerMl })
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
    it("writes the report files", async () => {
        const { a } = await simulate(25, "balance")
        const dir = mkdtempSync(join(tmpdir(), "bench-report-"))
        const files = await writeReport(dir, a, { rateMlPerH: 25, source: "sim:balance", startedEpochMs: 0 }, {})
        for (const f of ["startup.svg", "trumpet.svg", "report.svg", "report.html", "analysis.json"]) expect(files).toContain(join(dir, f))
    })
})
