// File sources: the pump's own delivery log and CSV exports from other tools. Both are turned
// into bench samples; unreadable lines are counted and reported, never fatal.

import { readFileSync } from "node:fs"
import { parsePumpLog } from "./protocols"
import { BenchSample, SampleKind } from "./samples"

export interface Imported {
    samples: BenchSample[]
    malformed: { line: number; reason: string; raw: string }[]
}

/** Pump console capture. Status lines are printed once a second by the firmware; a capture
 *  timestamp in seconds at the start of the line (e.g. from `ts -s %.s`) is used when present,
 *  otherwise line n of the status lines is taken as n seconds. */
export function importPumpLog(text: string): Imported {
    const samples: BenchSample[] = []
    const malformed: Imported["malformed"] = []
    let statusCount = 0
    let lastT = 0
    text.split("\n").forEach((raw, i) => {
        const p = parsePumpLog(raw)
        if (p.ok === "skip") return
        if (p.ok === false) return void malformed.push({ line: i + 1, reason: p.reason, raw })
        if (p.kind === "event") {
            samples.push({ tMs: lastT, kind: "event", value: NaN, tempC: NaN, note: p.event })
            return
        }
        const t = p.tS !== undefined ? p.tS * 1000 : statusCount * 1000
        statusCount++
        lastT = t
        samples.push({ tMs: t, kind: p.kind, value: p.value, tempC: NaN, note: "" })
    })
    return { samples, malformed }
}

const TIME_COLUMNS: Record<string, number> = { time_ms: 1, t_ms: 1, time_s: 1000, t_s: 1000, time_min: 60_000, t_min: 60_000 }
const VALUE_COLUMNS: Record<string, { kind: SampleKind; factor: number }> = {
    mass_mg: { kind: "mass_mg", factor: 1 },
    mass_g: { kind: "mass_mg", factor: 1000 },
    flow_ul_h: { kind: "flow_ul_h", factor: 1 },
    flow_ml_h: { kind: "flow_ul_h", factor: 1000 },
    flow_ul_min: { kind: "flow_ul_h", factor: 60 },
    volume_ul: { kind: "volume_ul", factor: 1 },
    volume_ml: { kind: "volume_ul", factor: 1000 },
}

/** Generic CSV: a header with one time column (time_ms / time_s / time_min), one value column
 *  (mass_g, mass_mg, flow_ml_h, flow_ul_h, flow_ul_min, volume_ml, volume_ul) and optionally
 *  temp_c and event. Comma or semicolon separated. */
export function importCsv(text: string): Imported {
    const samples: BenchSample[] = []
    const malformed: Imported["malformed"] = []
    const lines = text.split("\n")
    let header: string[] | null = null
    let sep = ","
    let tCol = -1
    let tFactor = 1
    let vCol = -1
    let vSpec: { kind: SampleKind; factor: number } | null = null
    let tempCol = -1
    let eventCol = -1
    lines.forEach((raw, i) => {
        const line = raw.trim()
        if (line === "" || line.startsWith("#")) return
        if (!header) {
            sep = line.includes(";") && !line.includes(",") ? ";" : ","
            header = line.split(sep).map(h => h.trim().toLowerCase())
            header.forEach((h, j) => {
                if (h in TIME_COLUMNS) (tCol = j), (tFactor = TIME_COLUMNS[h])
                else if (h in VALUE_COLUMNS) (vCol = j), (vSpec = VALUE_COLUMNS[h])
                else if (h === "temp_c") tempCol = j
                else if (h === "event") eventCol = j
            })
            if (tCol < 0 || vCol < 0)
                throw new Error(
                    `CSV header needs a time column (${Object.keys(TIME_COLUMNS).join("/")}) and a value column (${Object.keys(VALUE_COLUMNS).join("/")}); got: ${line}`,
                )
            return
        }
        const f = line.split(sep)
        const t = Number(f[tCol]) * tFactor
        if (f[tCol] === undefined || f[tCol].trim() === "" || !Number.isFinite(t)) return void malformed.push({ line: i + 1, reason: "bad time", raw })
        if (eventCol >= 0 && f[eventCol] && f[eventCol].trim() !== "") {
            samples.push({ tMs: t, kind: "event", value: NaN, tempC: NaN, note: f[eventCol].trim() })
        }
        const vs = f[vCol]
        if (vs === undefined || vs.trim() === "") return
        const v = Number(vs)
        if (!Number.isFinite(v)) return void malformed.push({ line: i + 1, reason: "bad value", raw })
        const temp = tempCol >= 0 && f[tempCol] !== undefined && f[tempCol].trim() !== "" ? Number(f[tempCol]) : NaN
        samples.push({ tMs: t, kind: vSpec!.kind, value: v * vSpec!.factor, tempC: temp, note: "" })
    })
    return { samples, malformed }
}

export function importFile(kind: "pumplog" | "csv", path: string): Imported {
    const text = readFileSync(path, "utf8")
    return kind === "pumplog" ? importPumpLog(text) : importCsv(text)
}
