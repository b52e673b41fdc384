// Issue 13 item 8: `bench analyse` refuses, with a reason and a non-zero exit, when the data or
// options would make the result meaningless; it never writes a report from zero readings
// (REQ-BENCH-006).
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { analyse, AnalysisOptions, DEFAULT_ANALYSIS } from "../../tools/bench/analysis"
import { analyseFile } from "../../tools/bench/cli"
import { importCsv, importPumpLog } from "../../tools/bench/importers"
import { BenchSample, formatSample } from "../../tools/bench/samples"

const R = 6 // mL/h: 50 µL per 30 s interval
const opts: AnalysisOptions = { ...DEFAULT_ANALYSIS, rateMlPerH: R, sampleIntervalMin: 0.5, periodMin: 6, analysisMin: 3, windowsMin: [1, 2] }
const mass = (tMs: number, mg: number): BenchSample => ({ tMs, kind: "mass_mg", value: mg, tempC: 20, note: "" })
/** 6 min at 6 mL/h on a balance: 50 µL of water (49.91 mg at 20 °C) per 30 s, read every 30 s. */
function goodRun(): BenchSample[] {
    const out: BenchSample[] = []
    for (let k = 0; k <= 12; k++) out.push(mass(k * 30_000, 10_000 + k * 49.91))
    return out
}
const common = { temp: 20, evaporation: 0, buoyancy: false, sampleS: 30, periodMin: 6, bolusWindowS: 60 }

function recordingFile(lines: string[]): { dir: string; csv: string } {
    const dir = mkdtempSync(join(tmpdir(), "bench13-"))
    const csv = join(dir, "recording.csv")
    writeFileSync(csv, ["# bench-recording v1", "time_ms,kind,value,temp_c,note", ...lines].join("\n") + "\n")
    return { dir, csv }
}
const meta = (rate: number) => "# meta " + JSON.stringify({ rateMlPerH: rate, source: "csv:test", protocol: "csv", startedEpochMs: 0 })

describe("bench analysis refuses invalid data and options", () => {
    it("a valid 6-minute run is analysed (accuracy within 0.1 % of 0)", () => {
        const a = analyse(goodRun(), opts)
        expect(a.refused).toEqual([])
        expect(Math.abs(a.overallAccuracyPct!)).toBeLessThan(0.1)
    })

    it("decreasing mass is refused instead of reporting -200 %", () => {
        const run = goodRun().map(s => ({ ...s, value: 20_000 - (s.value - 10_000) }))
        const a = analyse(run, opts)
        expect(a.overallAccuracyPct).toBeNull()
        // 12 steps of -49.91 mg = -0.600 mL in total (each step alone is within balance noise).
        expect(a.refused).toEqual(["delivered volume falls by 0.600 mL over the recording (decreasing mass/volume: tare change, leak or reversed sign)"])
    })

    it("one absurd tare reading is refused instead of reporting -100 %", () => {
        const run = goodRun()
        run[0] = mass(0, 1_000_000)
        expect(analyse(run, opts).refused[0]).toMatch(/delivered volume falls by/)
        const spike = goodRun()
        spike[6] = mass(180_000, 900_000)
        expect(analyse(spike, opts).refused[0]).toMatch(/jumps by .* an implausible reading/)
    })

    it("conflicting readings at one timestamp are refused; identical duplicates are not", () => {
        const dup = goodRun()
        dup.splice(4, 0, { ...dup[4] })
        expect(analyse(dup, opts).refused).toEqual([])
        const conflict = goodRun()
        conflict.splice(4, 0, { ...conflict[4], value: conflict[4].value + 10 })
        expect(analyse(conflict, opts).refused[0]).toMatch(/^conflicting mass_mg readings at t=120 s/)
    })

    it("--sample-s 0.01 and --period-min 0.001 are refused, not a crash or -100 %", () => {
        expect(analyse(goodRun(), { ...opts, sampleIntervalMin: 0.01 / 60 }).refused[0]).toBe("sample interval 0.01 s is outside 1..600 s")
        const short = analyse(goodRun(), { ...opts, periodMin: 0.001, analysisMin: 0.001 })
        expect(short.overallAccuracyPct).toBeNull()
        expect(short.refused[0]).toBe("test period 0.001 min must be a whole number (>= 4) of 30 s sample intervals")
    })

    it("zero readings (port never opened, all-malformed CSV, a binary pump log) give no report", async () => {
        expect(importCsv("time_s,mass_g\nx,y\n,\nfoo,bar\n").samples).toHaveLength(0)
        expect(importPumpLog(String.fromCharCode(...Array.from({ length: 400 }, (_, i) => (i * 37) % 256))).samples.filter(s => s.kind !== "event")).toHaveLength(0)
        const { dir, csv } = recordingFile([meta(R)])
        await expect(analyseFile(csv, dir, common, undefined, true)).rejects.toThrow(/0 reading\(s\) in the recording: nothing to analyse/)
        expect(readdirSync(dir)).toEqual(["recording.csv"]) // no report written
    })

    it("two different meta lines are refused instead of the last one silently winning", async () => {
        const { dir, csv } = recordingFile([meta(R), ...goodRun().map(formatSample), meta(100)])
        await expect(analyseFile(csv, dir, common, undefined, true)).rejects.toThrow(/conflicting '# meta' lines/)
        expect(readdirSync(dir)).toEqual(["recording.csv"])
        // The same run with one meta line analyses and writes its report.
        const ok = recordingFile([meta(R), ...goodRun().map(formatSample)])
        const r = await analyseFile(ok.csv, ok.dir, common, undefined, true)
        expect(Math.abs(r.analysis.overallAccuracyPct!)).toBeLessThan(0.1)
        expect(existsSync(r.files[0])).toBe(true)
    })
})
