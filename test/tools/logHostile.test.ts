// Issue 13 item 9: exported logs are checksummed, not authenticated. Copies that disagree are
// flagged and left out (never "first file wins"), garbage-only input is an error, and CSV output
// cannot carry a spreadsheet formula (REQ-LOG-008, REQ-LOG-009).
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { formatLogLine } from "../../src/core/log/exportLine"
import { mergeLogs, recordsCsv, trendCsv, trendRows, trendTable } from "../../tools/logAnalysis"

const root = new URL("../../", import.meta.url).pathname
const line = (pump: string, seq: number, timeMs: number, kind: string, detail: string) => formatLogLine(pump, { seq, timeMs, kind, detail })

function runLog(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise(resolve => {
        const p = spawn(join(root, "node_modules/.bin/tsx"), [join(root, "tools/logTool.ts"), ...args], { cwd: root })
        let stdout = ""
        let stderr = ""
        p.stdout.on("data", d => (stdout += d))
        p.stderr.on("data", d => (stderr += d))
        p.on("close", code => resolve({ status: code ?? -1, stdout, stderr }))
    })
}

const base = [
    line("ICU-09", 1, 0, "BOOT", "boot=1"),
    line("ICU-09", 2, 1000, "STATE", "Idle->Running (start)"),
    line("ICU-09", 3, 3_601_000, "STATE", "Running->Idle (stop)"),
]

describe("exported log: conflicts, garbage and CSV injection", () => {
    it("two copies of one record that disagree are both left out and flagged, whichever file comes first", () => {
        const genuine = [...base, line("ICU-09", 4, 3_700_000, "ALARM", "AIR_IN_LINE 120uL")].join("\n")
        const forged = [...base, line("ICU-09", 4, 3_700_000, "ALARM", "OCCLUSION_DOWNSTREAM p=900mmHg")].join("\n")
        for (const order of [[genuine, forged], [forged, genuine]]) {
            const m = mergeLogs(order.map((text, i) => ({ source: "f" + i, text })))
            expect(m.pumps.get("ICU-09")!.map(r => r.seq)).toEqual([1, 2, 3])
            expect(m.disputed.get("ICU-09")).toBe(1)
            expect(m.conflicts).toHaveLength(1)
            expect(trendRows(m).filter(r => r.code !== "-")).toEqual([])
            expect(trendTable(m, trendRows(m))).toContain("WARNING: ICU-09: 1 record(s) have copies that disagree and were left out")
        }
    })

    it("CSV fields starting with = + - @ are neutralised (no formula runs in a spreadsheet)", () => {
        const evil = ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-2+3", "@SUM(A1)"]
        const m = mergeLogs([{ source: "x", text: [...base, ...evil.map((d, i) => line("ICU-09", 4 + i, 3_700_000 + i, "NOTE", d))].join("\n") }])
        const rows = recordsCsv(m).trim().split("\n").slice(4)
        expect(rows.map(r => r.split(",").slice(5).join(","))).toEqual(["\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\"", "'+1+1", "'-2+3", "'@SUM(A1)"])
        expect(trendCsv([{ pump: "=cmd", code: "@x", count: 1, infusionHours: 1, per100h: 100 }])).toContain("'=cmd,'@x,1,1.000,100.00")
    })

    it("log trend exits 1 when every input line is garbage, and when copies conflict", async () => {
        const dir = mkdtempSync(join(tmpdir(), "log13-"))
        writeFileSync(join(dir, "garbage.log"), "LOG nonsense\n\u0000\u0001binary\nLOG ICU-09 1 0 BOOT boot=1 *deadbeef\n")
        writeFileSync(join(dir, "a.log"), [...base, line("ICU-09", 4, 3_700_000, "ALARM", "AIR_IN_LINE")].join("\n"))
        writeFileSync(join(dir, "b.log"), [...base, line("ICU-09", 4, 3_700_000, "ALARM", "OCCLUSION_DOWNSTREAM")].join("\n"))
        const [garbage, conflict] = await Promise.all([runLog("trend", join(dir, "garbage.log")), runLog("trend", join(dir, "a.log"), join(dir, "b.log"))])
        expect(garbage.status).toBe(1)
        expect(garbage.stderr).toContain("error: no valid LOG record in the input")
        expect(garbage.stdout).toBe("")
        expect(conflict.status).toBe(1)
        expect(conflict.stdout).toContain("WARNING: ICU-09")
    }, 300_000)
})
