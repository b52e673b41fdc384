// Host-side analysis of exported pump logs (LOG lines, see src/core/log/exportLine.ts):
// merge captures from many pumps, drop garbled lines with a reason, de-duplicate overlapping
// exports, and compute infusion hours and alarm rates per 100 infusion hours.
//
// Infusion time is time spent in a delivering state (Running, Bolus, KVO) between STATE records.
// Record times are ms since boot, so a BOOT record closes an open delivering interval at the last
// record seen before it (a lower bound: the pump may have run a little longer before power
// loss), and so does a gap in sequence numbers. Alarms are ALARM records; the code is the first
// word of the detail.

import { ExportedRecord, parseLogLine } from "../src/core/log/exportLine"

export interface Rejected {
    source: string
    line: number
    reason: string
}

export interface Merged {
    /** Records per pump, ordered by seq. */
    pumps: Map<string, ExportedRecord[]>
    rejected: Rejected[]
    /** Lines that are not LOG lines at all (other console output): skipped. */
    ignored: number
    duplicates: number
    /** Same pump and seq with different content: every copy of such a record is left out
     *  (which one is genuine cannot be known: the export is checksummed, not authenticated). */
    conflicts: Rejected[]
    /** Records left out because their copies disagree, per pump. */
    disputed: Map<string, number>
}

export function mergeLogs(inputs: { source: string; text: string }[]): Merged {
    const byKey = new Map<string, ExportedRecord>()
    const rejected: Rejected[] = []
    const conflicts: Rejected[] = []
    let ignored = 0
    let duplicates = 0
    const disputedKeys = new Set<string>()
    for (const input of inputs) {
        const lines = input.text.split("\n")
        lines.forEach((raw, i) => {
            // Captures from `devs run` carry ANSI colour codes around console lines.
            const line = raw.replace(/\r$/, "").replace(/\x1b\[[0-9;]*m/g, "")
            // Console captures may prefix lines (e.g. "WASM> "): take the LOG line from its tag on.
            const at = line.indexOf("LOG ")
            if (at < 0) {
                if (line.trim().length > 0) ignored++
                return
            }
            const p = parseLogLine(line.slice(at))
            if (!p.ok) {
                rejected.push({ source: input.source, line: i + 1, reason: p.error })
                return
            }
            const r = p.record
            const key = r.pump + "\u0000" + r.seq
            const prev = byKey.get(key)
            if (!prev) byKey.set(key, r)
            else if (prev.timeMs === r.timeMs && prev.kind === r.kind && prev.detail === r.detail) duplicates++
            else {
                conflicts.push({ source: input.source, line: i + 1, reason: `pump ${r.pump} seq ${r.seq} differs from an earlier copy; every copy left out` })
                disputedKeys.add(key)
            }
        })
    }
    const pumps = new Map<string, ExportedRecord[]>()
    const disputed = new Map<string, number>()
    for (const [key, r] of byKey) {
        if (disputedKeys.has(key)) {
            disputed.set(r.pump, (disputed.get(r.pump) ?? 0) + 1)
            continue
        }
        if (!pumps.has(r.pump)) pumps.set(r.pump, [])
        pumps.get(r.pump)!.push(r)
    }
    for (const list of pumps.values()) list.sort((a, b) => a.seq - b.seq)
    return { pumps: new Map([...pumps.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))), rejected, ignored, duplicates, conflicts, disputed }
}

const DELIVERING = new Set(["Loading", "Running", "Bolus", "KVO"])

/** Target state of a STATE record ("Running->Paused (pause)" -> "Paused"), or null. */
export function stateTarget(detail: string): string | null {
    const m = /->([A-Za-z]+)/.exec(detail)
    return m ? m[1] : null
}

export interface PumpTrend {
    pump: string
    records: number
    boots: number
    seqGaps: number
    infusionMs: number
    alarms: Map<string, number>
}

export function pumpTrend(pump: string, recs: ExportedRecord[]): PumpTrend {
    const alarms = new Map<string, number>()
    let infusionMs = 0
    let since = -1 // start of the open delivering interval (ms since boot), -1 = not delivering
    let lastTime = 0
    let lastSeq = -1
    let boots = 0
    let seqGaps = 0
    const close = (t: number) => {
        if (since >= 0 && t > since) infusionMs += t - since
        since = -1
    }
    for (const r of recs) {
        if (lastSeq >= 0 && r.seq !== lastSeq + 1) {
            seqGaps++
            close(lastTime)
        }
        lastSeq = r.seq
        if (r.kind === "BOOT") {
            boots++
            close(lastTime)
            lastTime = r.timeMs
            continue
        }
        if (r.timeMs < lastTime) close(lastTime) // clock went back without a BOOT: do not count across it
        lastTime = r.timeMs
        if (r.kind === "STATE") {
            const to = stateTarget(r.detail)
            if (to && DELIVERING.has(to)) {
                if (since < 0) since = r.timeMs
            } else if (to) close(r.timeMs)
        } else if (r.kind === "ALARM") {
            const code = r.detail.split(" ")[0] || "?"
            alarms.set(code, (alarms.get(code) ?? 0) + 1)
        }
    }
    close(lastTime)
    return { pump, records: recs.length, boots, seqGaps, infusionMs, alarms }
}

/** Alarms per 100 infusion hours, or null when there were no infusion hours. */
export function per100h(count: number, infusionMs: number): number | null {
    if (infusionMs <= 0) return null
    return (count * 100 * 3_600_000) / infusionMs
}

/** One CSV field. Text that a spreadsheet would run as a formula (starting with = + - @, tab or
 *  CR; the detail text of a log record is whatever the pump or an attacker put there) is
 *  prefixed with ' so it stays text (OWASP "CSV injection"). Numbers are written as numbers. */
export function csvField(s: string | number): string {
    let t = String(s)
    if (typeof s === "string" && /^[=+\-@\t\r]/.test(t)) t = "'" + t
    return /[",\n\r]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t
}

export function recordsCsv(m: Merged): string {
    const rows = ["pump,seq,boot,time_ms,kind,detail"]
    for (const [pump, recs] of m.pumps) {
        let boot = 0
        for (const r of recs) {
            if (r.kind === "BOOT") boot++
            rows.push([pump, r.seq, boot, r.timeMs, r.kind, r.detail].map(csvField).join(","))
        }
    }
    return rows.join("\n") + "\n"
}

export interface TrendRow {
    pump: string
    code: string
    count: number
    infusionHours: number
    per100h: number | null
}

/** One row per pump and alarm code, plus "ALL" rows for the fleet. */
export function trendRows(m: Merged): TrendRow[] {
    const rows: TrendRow[] = []
    const fleet = new Map<string, number>()
    let fleetMs = 0
    for (const [pump, recs] of m.pumps) {
        const t = pumpTrend(pump, recs)
        fleetMs += t.infusionMs
        const codes = [...t.alarms.keys()].sort()
        if (codes.length === 0) rows.push({ pump, code: "-", count: 0, infusionHours: t.infusionMs / 3_600_000, per100h: per100h(0, t.infusionMs) })
        for (const c of codes) {
            const n = t.alarms.get(c)!
            fleet.set(c, (fleet.get(c) ?? 0) + n)
            rows.push({ pump, code: c, count: n, infusionHours: t.infusionMs / 3_600_000, per100h: per100h(n, t.infusionMs) })
        }
    }
    for (const c of [...fleet.keys()].sort()) rows.push({ pump: "ALL", code: c, count: fleet.get(c)!, infusionHours: fleetMs / 3_600_000, per100h: per100h(fleet.get(c)!, fleetMs) })
    return rows
}

export function trendCsv(rows: TrendRow[]): string {
    const out = ["pump,alarm_code,count,infusion_hours,alarms_per_100h"]
    for (const r of rows) out.push([r.pump, r.code, r.count, r.infusionHours.toFixed(3), r.per100h === null ? "" : r.per100h.toFixed(2)].map(csvField).join(","))
    return out.join("\n") + "\n"
}

export function trendTable(m: Merged, rows: TrendRow[]): string {
    const lines: string[] = []
    lines.push("pump".padEnd(14) + "alarm code".padEnd(24) + "count".padStart(6) + "infusion h".padStart(12) + "per 100 h".padStart(11))
    for (const r of rows) {
        lines.push(
            r.pump.padEnd(14) + r.code.padEnd(24) + String(r.count).padStart(6) + r.infusionHours.toFixed(2).padStart(12) + (r.per100h === null ? "n/a" : r.per100h.toFixed(2)).padStart(11)
        )
    }
    for (const [pump, n] of m.disputed)
        lines.push(`WARNING: ${pump}: ${n} record(s) have copies that disagree and were left out; figures for this pump may be wrong (exported logs are checksummed, not authenticated)`)
    for (const [pump, recs] of m.pumps) {
        const t = pumpTrend(pump, recs)
        if (t.seqGaps > 0) lines.push(`note: ${pump} has ${t.seqGaps} gap(s) in sequence numbers (records overwritten or not exported); hours are a lower bound`)
    }
    return lines.join("\n")
}
