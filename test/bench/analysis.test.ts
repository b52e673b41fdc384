// Bench analysis against hand-computed references (docs/bench-testing.md has the formulas).
// Every expected number below is worked out in the comment next to it, not taken from the code.

import { describe, expect, it } from "vitest"
import { analyse, AnalysisOptions, DEFAULT_ANALYSIS, massToVolumeMl, waterDensityGPerMl } from "../../tools/bench/analysis"
import { BenchSample } from "../../tools/bench/samples"

/** |actual - expected| <= 0.1 % of |expected| (or 1e-9 absolute for zero). */
function within01pct(actual: number | null, expected: number) {
    expect(actual).not.toBeNull()
    const tol = Math.max(Math.abs(expected) * 0.001, 1e-9)
    expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(tol)
}

const vol = (tMs: number, ul: number): BenchSample => ({ tMs, kind: "volume_ul", value: ul, tempC: NaN, note: "" })
const mass = (tMs: number, mg: number, tempC = NaN): BenchSample => ({ tMs, kind: "mass_mg", value: mg, tempC, note: "" })
const ev = (tMs: number, note: string): BenchSample => ({ tMs, kind: "event", value: NaN, tempC: NaN, note })

describe("water density and gravimetric conversion", () => {
    it("matches the CIPM (Tanaka 2001) table values", () => {
        // Tanaka et al. 2001, Table: 4 °C 999.9750, 20 °C 998.2067, 25 °C 997.0470 kg/m³.
        expect(waterDensityGPerMl(4)).toBeCloseTo(0.999975, 6)
        expect(waterDensityGPerMl(20)).toBeCloseTo(0.9982067, 6)
        expect(waterDensityGPerMl(25)).toBeCloseTo(0.997047, 6)
    })
    it("converts balance mass to volume with and without air buoyancy", () => {
        // 998.2067 mg of water at 20 °C is 1 mL.
        expect(massToVolumeMl(998.2067, 20, false)).toBeCloseTo(1.0, 6)
        // ISO 4787 Z factor at 20 °C, 1013 hPa: 1.0029 µL/mg -> 1000 mg reads 1.0029 mL.
        expect(massToVolumeMl(1000, 20, true)).toBeCloseTo(1.0029, 4)
    })
})

describe("IEC 60601-2-24 analysis, scaled-down hand reference", () => {
    // S = 0.5 min, T = 6 min (12 intervals), analysis period = last 3 min (intervals 7..12),
    // windows P = 1 min (2 intervals) and 2 min (4 intervals), r = 6 mL/h = 50 µL per interval.
    // Interval volumes (µL): 0 20 45 50 52 48 | 51 49 53 47 50 52
    const per = [0, 20, 45, 50, 52, 48, 51, 49, 53, 47, 50, 52]
    const samples: BenchSample[] = [vol(0, 1000)] // the first reading is the tare (1000 µL offset)
    let cum = 1000
    per.forEach((v, i) => samples.push(vol((i + 1) * 30_000, (cum += v))))
    const o: AnalysisOptions = { ...DEFAULT_ANALYSIS, rateMlPerH: 6, periodMin: 6, analysisMin: 3, windowsMin: [1, 2] }
    const a = analyse(samples, o)

    it("start-up curve: Q_i = interval volume x 120 / 1000 mL/h", () => {
        const expected = [0, 2.4, 5.4, 6.0, 6.24, 5.76, 6.12, 5.88, 6.36, 5.64, 6.0, 6.24]
        expect(a.startup.map(p => p.tMin)).toEqual([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6])
        a.startup.forEach((p, i) => within01pct(p.flowMlPerH, expected[i]))
    })
    it("overall accuracy over the analysis period", () => {
        // (51+49+53+47+50+52) = 302 µL in 3 min = 6.04 mL/h -> +0.6667 %
        within01pct(a.meanFlowMlPerH, 6.04)
        within01pct(a.overallAccuracyPct, 0.66667)
        within01pct(a.totalVolumeMl, 0.517)
    })
    it("trumpet: P = 1 min", () => {
        // pairs: 100 102 100 97 102 µL/min -> 6.00 6.12 6.00 5.82 6.12 mL/h -> +2 %, -3 %, m = 5
        const t = a.trumpet.find(x => x.windowMin === 1)!
        expect(t.windows).toBe(5)
        within01pct(t.maxPct, 2)
        within01pct(t.minPct, -3)
    })
    it("trumpet: P = 2 min", () => {
        // quads: 200 199 202 µL/2 min -> 6.00 5.97 6.06 mL/h -> +1 %, -0.5 %, m = 3
        const t = a.trumpet.find(x => x.windowMin === 2)!
        expect(t.windows).toBe(3)
        within01pct(t.maxPct, 1)
        within01pct(t.minPct, -0.5)
    })
})

describe("IEC 60601-2-24 analysis, full 2 h grid", () => {
    // r = 1 mL/h: 1000/120 µL per 30 s interval. One interval in the second hour (interval 200,
    // 99.5..100 min) delivers X = 5 µL extra. Windows containing it read high by X over the window:
    // Ep(max) = 100 X / (n x 1000/120) with n = 2P; windows without it read exactly r: Ep(min) = 0.
    const nominal = 1000 / 120
    const samples: BenchSample[] = []
    let cum = 0
    samples.push(vol(0, 0))
    for (let i = 1; i <= 240; i++) samples.push(vol(i * 30_000, (cum += nominal + (i === 200 ? 5 : 0))))
    const a = analyse(samples, { ...DEFAULT_ANALYSIS, rateMlPerH: 1 })

    it("window counts m = (60 - P)/S + 1", () => {
        expect(a.trumpet.map(t => t.windows)).toEqual([117, 111, 99, 83, 59])
    })
    it("Ep(max), Ep(min) and overall accuracy", () => {
        const expectedMax: Record<number, number> = { 2: 15, 5: 6, 11: 2.72727, 19: 1.57895, 31: 0.967742 }
        for (const t of a.trumpet) {
            within01pct(t.maxPct, expectedMax[t.windowMin])
            within01pct(t.minPct, 0)
        }
        // 5 µL extra over 1000 µL in the second hour: +0.5 %
        within01pct(a.overallAccuracyPct, 0.5)
        expect(a.complete).toBe(true)
    })
    it("an incomplete recording gives no trumpet and says why", () => {
        const short = analyse(samples.slice(0, 150), { ...DEFAULT_ANALYSIS, rateMlPerH: 1 })
        expect(short.complete).toBe(false)
        expect(short.trumpet).toEqual([])
        expect(short.overallAccuracyPct).toBeNull()
        expect(short.warnings.join(" ")).toMatch(/74\.5 min of the 120 min/)
    })
})

describe("gravimetric, flow-meter and occlusion inputs", () => {
    it("balance readings every 10 s with density at 25 °C and evaporation added back", () => {
        // 25 mL/h of water at 25 °C = 25 x 997.047 mg/h; the vessel loses 6 mg/h to evaporation.
        // Corrected volume must read exactly 25 mL/h (0 %) although the raw mass rate is lower.
        const mgPerMs = (25 * 997.047 - 6) / 3_600_000
        const s: BenchSample[] = []
        for (let t = 0; t <= 7_200_000; t += 10_000) s.push(mass(t, 5000 + mgPerMs * t, 25))
        const a = analyse(s, { ...DEFAULT_ANALYSIS, rateMlPerH: 25, evaporationMgPerH: 6 })
        within01pct(a.meanFlowMlPerH, 25)
        expect(Math.abs(a.overallAccuracyPct as number)).toBeLessThan(0.001)
        // Without the evaporation option the same data reads low by 6 / (25 x 997.047) = 0.0241 %.
        const raw = analyse(s, { ...DEFAULT_ANALYSIS, rateMlPerH: 25 })
        within01pct(raw.overallAccuracyPct, -0.024071)
    })
    it("flow meter readings are integrated (trapezoid)", () => {
        // Flow ramps 0 -> 2000 µL/h over the first 10 min, then holds 2000 µL/h (r = 2 mL/h).
        // The ramp is integrated exactly by trapezoids; second hour is flat -> 0 %.
        const s: BenchSample[] = []
        for (let t = 0; t <= 7_200_000; t += 5_000) {
            const f = t < 600_000 ? (2000 * t) / 600_000 : 2000
            s.push({ tMs: t, kind: "flow_ul_h", value: f, tempC: 22, note: "" })
        }
        const a = analyse(s, { ...DEFAULT_ANALYSIS, rateMlPerH: 2 })
        within01pct(a.meanFlowMlPerH, 2)
        // Total: ramp 0.5 x 2000 µL/h x 1/6 h = 166.67 µL + 2000 x 110/60 = 3666.67 µL -> 3.8333 mL
        within01pct(a.totalVolumeMl, 3.83333)
        // Start-up: interval ending at 5 min averages the ramp over 4.5..5 min: 2000 x 4.75/10 = 950 µL/h
        within01pct(a.startup[9].flowMlPerH, 0.95)
    })
    it("occlusion: time to alarm and post-occlusion bolus", () => {
        // Volume flat while occluded; released at 700 s; 40 µL arrive over the next 20 s, then flat.
        const s: BenchSample[] = [vol(0, 0), vol(600_000, 100), vol(700_000, 100), vol(720_000, 140), vol(900_000, 140)]
        s.push(ev(610_000, "occlusion_on"), ev(655_500, "alarm:OCCLUSION"), ev(700_000, "occlusion_off"))
        const a = analyse(s, { ...DEFAULT_ANALYSIS, rateMlPerH: 1, bolusWindowS: 60 })
        expect(a.occlusions).toHaveLength(1)
        within01pct(a.occlusions[0].timeToAlarmS, 45.5)
        within01pct(a.occlusions[0].bolusUl, 40)
    })
    it("flags a pump alarm inside the test period", () => {
        const a = analyse([vol(0, 0), vol(600_000, 10), ev(300_000, "alarm:SYRINGE_EMPTY")], { ...DEFAULT_ANALYSIS, rateMlPerH: 1 })
        expect(a.warnings.join(" ")).toMatch(/SYRINGE_EMPTY at 5\.00 min/)
    })
    it("reports a recording that mixes measurands instead of combining them", () => {
        const a = analyse([vol(0, 0), vol(60_000, 10), mass(30_000, 5)], { ...DEFAULT_ANALYSIS, rateMlPerH: 1 })
        expect(a.warnings.join(" ")).toMatch(/mixes measurands/)
    })
})
