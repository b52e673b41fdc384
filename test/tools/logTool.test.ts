import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { formatLogLine, parseLogLine } from "../../src/core/log/exportLine"
import { mergeLogs, pumpTrend, trendRows } from "../../tools/logAnalysis"

const DIR = "docs/sample-logs"
const samples = () => readdirSync(DIR).filter(f => f.endsWith(".log")).map(f => ({ source: f, text: readFileSync(`${DIR}/${f}`, "utf8") }))

describe("LOG line format", () => {
    it("round-trips any record and rejects any single changed character", () => {
        const printable = fc.string({ maxLength: 100 }).map(s => s.replace(/[^\x20-\x7e]/g, "x"))
        fc.assert(
            fc.property(
                fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/),
                fc.integer({ min: 1, max: 2 ** 32 - 1 }),
                fc.integer({ min: 0, max: 2 ** 40 }),
                fc.stringMatching(/^[A-Z0-9_]{1,24}$/),
                printable,
                fc.nat(),
                (pump, seq, timeMs, kind, detail, pos) => {
                    const line = formatLogLine(pump, { seq, timeMs, kind, detail })
                    expect(parseLogLine(line)).toEqual({ ok: true, record: { pump, seq, timeMs, kind, detail }, error: "" })
                    const i = pos % line.length
                    const c = line.charCodeAt(i)
                    const mutated = line.slice(0, i) + String.fromCharCode(c === 0x7e ? 0x20 : c + 1) + line.slice(i + 1)
                    expect(parseLogLine(mutated).ok).toBe(false)
                }
            ),
            { numRuns: 3000 }
        )
    })

    it("never throws on arbitrary text", () => {
        fc.assert(fc.property(fc.string({ maxLength: 500 }), s => void parseLogLine(s)), { numRuns: 5000 })
        fc.assert(fc.property(fc.string({ maxLength: 80 }), s => void parseLogLine("LOG " + s)), { numRuns: 5000 })
        expect(parseLogLine("LOG a 01 5 STATE x *00000000").ok).toBe(false)
    })

    it("the importer never throws on random captures and keeps only checksummed records", () => {
        fc.assert(
            fc.property(fc.array(fc.string({ maxLength: 120 }), { maxLength: 30 }), ls => {
                const m = mergeLogs([{ source: "x", text: ls.join("\n") }])
                for (const recs of m.pumps.values()) for (const r of recs) expect(r.seq).toBeGreaterThan(0)
            }),
            { numRuns: 1000 }
        )
    })
})

describe("trend from the sample logs (docs/sample-logs), checked by hand", () => {
    it("merges four captures of three pumps, rejects the garbled line and merges the overlap", () => {
        const m = mergeLogs(samples())
        expect([...m.pumps.keys()]).toEqual(["ICU-01", "ICU-02", "WARD-07"])
        // ICU-01: 21 records (seq 101-121); the next-day export repeats the last 6.
        expect(m.pumps.get("ICU-01")!.map(r => r.seq)).toEqual(Array.from({ length: 21 }, (_, i) => 101 + i))
        expect(m.duplicates).toBe(6)
        // ICU-02 has one line with a changed character: rejected by checksum, the good copy kept.
        expect(m.rejected).toEqual([{ source: "icu-02.log", line: 10, reason: "checksum mismatch" }])
        expect(m.pumps.get("ICU-02")).toHaveLength(15)
        expect(m.ignored).toBe(2) // PERSIST and status lines in icu-01.log
    })

    it("infusion hours: ICU-01 4+6+2(KVO)+3+5 = 20 h; ICU-02 5 (to last record before power loss)+10+5 = 20 h", () => {
        const m = mergeLogs(samples())
        const a = pumpTrend("ICU-01", m.pumps.get("ICU-01")!)
        expect(a.infusionMs).toBe(20 * 3_600_000)
        const b = pumpTrend("ICU-02", m.pumps.get("ICU-02")!)
        expect(b.infusionMs).toBe(20 * 3_600_000)
        expect(b.boots).toBe(2)
        expect(pumpTrend("WARD-07", m.pumps.get("WARD-07")!).infusionMs).toBe(0)
    })

    it("alarms per 100 infusion hours: 2 occlusions / 20 h = 10; fleet 40 h: 2 / 40 h = 5, 1 / 40 h = 2.5", () => {
        const rows = trendRows(mergeLogs(samples()))
        const get = (pump: string, code: string) => rows.find(r => r.pump === pump && r.code === code)!
        expect(get("ICU-01", "OCCLUSION_DOWNSTREAM")).toEqual({ pump: "ICU-01", code: "OCCLUSION_DOWNSTREAM", count: 2, infusionHours: 20, per100h: 10 })
        expect(get("ICU-01", "AIR_IN_LINE").per100h).toBe(5)
        expect(get("ICU-02", "POWER_RESTORED").per100h).toBe(5)
        expect(get("ICU-02", "OCCLUSION_UPSTREAM").per100h).toBe(5)
        expect(get("WARD-07", "PLUNGER_DISENGAGED").per100h).toBeNull() // no infusion hours: no rate
        expect(get("ALL", "OCCLUSION_DOWNSTREAM")).toEqual({ pump: "ALL", code: "OCCLUSION_DOWNSTREAM", count: 2, infusionHours: 40, per100h: 5 })
        expect(get("ALL", "PLUNGER_DISENGAGED").per100h).toBe(2.5)
    })

    it("reads lines captured from the simulator console (prefix and ANSI colour codes)", () => {
        const line = formatLogLine("sim-1", { seq: 6, timeMs: 1700, kind: "ALARM", detail: "OCCLUSION_DOWNSTREAM test" })
        const m = mergeLogs([{ source: "c", text: "WASM> \x1b[95m" + line + "\x1b[0m\n" }])
        expect(m.rejected).toEqual([])
        expect(m.pumps.get("sim-1")![0].detail).toBe("OCCLUSION_DOWNSTREAM test")
    })

    it("a gap in sequence numbers closes a delivering interval instead of bridging it", () => {
        const L = (seq: number, t: number, kind: string, d: string) => formatLogLine("P", { seq, timeMs: t, kind, detail: d })
        const text = [L(1, 0, "STATE", "Programmed->Running (start)"), L(2, 3_600_000, "REMOTE_DROP", "x"), L(9, 36_000_000, "STATE", "Running->Paused (pause)")].join("\n")
        const m = mergeLogs([{ source: "g", text }])
        const t = pumpTrend("P", m.pumps.get("P")!)
        expect(t.seqGaps).toBe(1)
        expect(t.infusionMs).toBe(3_600_000)
    })

    it("npm run log -- trend prints the table", () => {
        const out = execFileSync("npx", ["tsx", "tools/logTool.ts", "trend", ...samples().map(s => `${DIR}/${s.source}`)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
        expect(out).toMatch(/ICU-01\s+OCCLUSION_DOWNSTREAM\s+2\s+20\.00\s+10\.00/)
        expect(out).toMatch(/ALL\s+OCCLUSION_DOWNSTREAM\s+2\s+40\.00\s+5\.00/)
    })
})
