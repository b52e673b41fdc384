// Report: start-up curve and trumpet curve as SVG (drawn with d3-scale/d3-shape, no browser),
// a summary table, all on one HTML page; the same sheet rendered to PNG with resvg.

import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { scaleLinear } from "d3-scale"
import { line } from "d3-shape"
import { Analysis } from "./analysis"
import { RecordingMeta } from "./samples"

interface Series {
    points: [number, number][]
    color: string
    label: string
    dash?: string
    markers?: boolean
    width?: number
}

interface ChartSpec {
    width: number
    height: number
    title: string
    xLabel: string
    yLabel: string
    x: [number, number]
    y: [number, number]
    xTicks?: number[]
    series: Series[]
    /** Shaded x ranges (e.g. the analysis period). */
    bands?: { from: number; to: number; label: string }[]
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
const FONT = "font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\""

/** One chart as an SVG group at (ox, oy). */
function chart(c: ChartSpec, ox: number, oy: number): string {
    const m = { top: 42, right: 16, bottom: 44, left: 62 }
    const w = c.width - m.left - m.right
    const h = c.height - m.top - m.bottom
    const x = scaleLinear().domain(c.x).range([0, w])
    const y = scaleLinear().domain(c.y).range([h, 0]).nice()
    const out: string[] = []
    out.push(`<g transform="translate(${ox},${oy})" ${FONT}>`)
    out.push(`<rect x="0" y="0" width="${c.width}" height="${c.height}" fill="#fff"/>`)
    out.push(`<text x="${m.left}" y="14" font-size="15" font-weight="bold" fill="#222">${esc(c.title)}</text>`)
    out.push(`<g transform="translate(${m.left},${m.top})">`)
    for (const b of c.bands ?? []) {
        out.push(`<rect x="${x(b.from)}" y="0" width="${x(b.to) - x(b.from)}" height="${h}" fill="#eef3fb"/>`)
        out.push(`<text x="${x(b.from) + 4}" y="12" font-size="10" fill="#5577aa">${esc(b.label)}</text>`)
    }
    for (const t of y.ticks(6)) {
        out.push(`<line x1="0" x2="${w}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`)
        out.push(`<text x="-6" y="${y(t) + 4}" font-size="11" text-anchor="end" fill="#333">${fmtTick(t)}</text>`)
    }
    for (const t of c.xTicks ?? x.ticks(8)) {
        out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${h}" y2="${h + 5}" stroke="#333"/>`)
        out.push(`<text x="${x(t)}" y="${h + 18}" font-size="11" text-anchor="middle" fill="#333">${fmtTick(t)}</text>`)
    }
    out.push(`<rect x="0" y="0" width="${w}" height="${h}" fill="none" stroke="#888"/>`)
    const path = line<[number, number]>()
        .x(d => x(d[0]))
        .y(d => y(d[1]))
    for (const s of c.series) {
        const pts = s.points.filter(p => Number.isFinite(p[1]))
        out.push(
            `<path d="${path(pts) ?? ""}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.6}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
        )
        if (s.markers) for (const p of pts) out.push(`<circle cx="${x(p[0])}" cy="${y(p[1])}" r="3.5" fill="${s.color}"/>`)
    }
    out.push(`<text x="${w / 2}" y="${h + 36}" font-size="12" text-anchor="middle" fill="#222">${esc(c.xLabel)}</text>`)
    out.push(`<text transform="translate(-46,${h / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#222">${esc(c.yLabel)}</text>`)
    // Legend in the top margin, right-aligned, so it never hides data.
    let lx = w
    for (const s of [...c.series].reverse()) {
        const tw = s.label.length * 6.4 + 30
        lx -= tw
        out.push(`<line x1="${lx}" x2="${lx + 20}" y1="-10" y2="-10" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`)
        out.push(`<text x="${lx + 24}" y="-6" font-size="11" fill="#222">${esc(s.label)}</text>`)
    }
    out.push(`</g></g>`)
    return out.join("\n")
}

function fmtTick(t: number): string {
    return Math.abs(t) >= 100 || Number.isInteger(t) ? String(Math.round(t * 100) / 100) : t.toPrecision(3).replace(/\.?0+$/, "")
}

function padDomain(lo: number, hi: number, minSpan: number): [number, number] {
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1]
    if (hi - lo < minSpan) {
        const mid = (hi + lo) / 2
        return [mid - minSpan / 2, mid + minSpan / 2]
    }
    const pad = (hi - lo) * 0.08
    return [lo - pad, hi + pad]
}

export function startupChart(a: Analysis, ox = 0, oy = 0, width = 760, height = 320): string {
    const r = a.options.rateMlPerH
    const pts = a.startup.map(p => [p.tMin, p.flowMlPerH] as [number, number])
    const ys = pts.map(p => p[1]).concat([r, 0])
    const an = a.options.periodMin - a.options.analysisMin
    return chart(
        {
            width,
            height,
            title: `Start-up curve (flow per ${a.options.sampleIntervalMin * 60} s interval)`,
            xLabel: "time (min)",
            yLabel: "flow (mL/h)",
            x: [0, a.options.periodMin],
            y: padDomain(Math.min(...ys), Math.max(...ys), r * 0.1),
            xTicks: rangeTicks(0, a.options.periodMin, a.options.periodMin > 60 ? 15 : 10),
            bands: [{ from: an, to: a.options.periodMin, label: "analysis period" }],
            series: [
                { points: pts, color: "#1f5fbf", label: "measured flow" },
                { points: [[0, r], [a.options.periodMin, r]], color: "#c0392b", dash: "6 4", label: `set rate ${r} mL/h` },
            ],
        },
        ox,
        oy,
    )
}

export function trumpetChart(a: Analysis, ox = 0, oy = 0, width = 760, height = 320): string {
    const tp = a.trumpet
    const maxs = tp.map(t => [t.windowMin, t.maxPct] as [number, number])
    const mins = tp.map(t => [t.windowMin, t.minPct] as [number, number])
    const ys = maxs.map(p => p[1]).concat(mins.map(p => p[1]), [0, a.overallAccuracyPct ?? 0])
    const lim = Math.max(1, ...ys.map(Math.abs)) * 1.15
    const xMax = Math.max(35, ...tp.map(t => t.windowMin + 4))
    const series: Series[] = [
        { points: maxs, color: "#1f5fbf", label: "Ep(max)", markers: true },
        { points: mins, color: "#d35400", label: "Ep(min)", markers: true },
    ]
    if (a.overallAccuracyPct !== null)
        series.push({ points: [[0, a.overallAccuracyPct], [xMax, a.overallAccuracyPct]], color: "#27ae60", dash: "6 4", label: `overall ${a.overallAccuracyPct.toFixed(2)} %` })
    series.push({ points: [[0, 0], [xMax, 0]], color: "#555", label: "set rate", width: 1 })
    return chart(
        {
            width,
            height,
            title: "Trumpet curve (second hour)",
            xLabel: "observation window (min)",
            yLabel: "deviation from set rate (%)",
            x: [0, xMax],
            y: [-lim, lim],
            xTicks: [0, ...a.options.windowsMin],
            series,
        },
        ox,
        oy,
    )
}

function rangeTicks(lo: number, hi: number, step: number): number[] {
    const t: number[] = []
    for (let v = lo; v <= hi + 1e-9; v += step) t.push(v)
    return t
}

export interface SummaryRow {
    label: string
    value: string
}

export function summaryRows(a: Analysis, meta: RecordingMeta, stats: Record<string, number | string>): SummaryRow[] {
    const f = (v: number | null, d = 2, unit = "") => (v === null || !Number.isFinite(v) ? "n/a" : v.toFixed(d) + unit)
    const rows: SummaryRow[] = [
        { label: "Set rate", value: `${a.options.rateMlPerH} mL/h` },
        { label: "Source", value: String(meta.source) + (meta.protocol ? ` (${meta.protocol})` : "") },
        { label: "Recorded", value: `${a.recordedMin.toFixed(1)} min, ${a.sampleCount} readings${a.complete ? "" : " (INCOMPLETE)"}` },
        { label: "Mean flow, analysis period", value: f(a.meanFlowMlPerH, 4, " mL/h") },
        { label: "Overall accuracy (second hour)", value: f(a.overallAccuracyPct, 2, " %") },
        { label: "Volume over the test period", value: f(a.totalVolumeMl, 4, " mL") },
        { label: "Water density used", value: `${a.densityGPerMl.toFixed(5)} g/mL` },
        { label: "Evaporation correction", value: `${a.options.evaporationMgPerH} mg/h` },
    ]
    for (const t of a.trumpet) rows.push({ label: `Ep(max) / Ep(min), P = ${t.windowMin} min`, value: `${t.maxPct.toFixed(2)} % / ${t.minPct.toFixed(2)} %` })
    for (const o of a.occlusions) {
        rows.push({ label: "Occlusion: time to alarm", value: o.timeToAlarmS === null ? "NO ALARM" : `${o.timeToAlarmS.toFixed(1)} s` })
        rows.push({ label: `Post-occlusion bolus (${a.options.bolusWindowS} s)`, value: o.bolusUl === null ? "n/a" : `${o.bolusUl.toFixed(1)} µL` })
    }
    for (const [k, v] of Object.entries(stats)) rows.push({ label: k, value: String(v) })
    return rows
}

/** Writes startup.svg, trumpet.svg, report.svg (one sheet), report.png (if resvg loads),
 *  report.html and analysis.json into `dir`. Returns the paths written. */
export async function writeReport(dir: string, a: Analysis, meta: RecordingMeta, stats: Record<string, number | string>): Promise<string[]> {
    mkdirSync(dir, { recursive: true })
    const written: string[] = []
    const put = (name: string, data: string | Buffer) => {
        const p = join(dir, name)
        writeFileSync(p, data)
        written.push(p)
    }
    const W = 760
    const H = 320
    const svgDoc = (w: number, h: number, body: string) =>
        `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">\n<rect width="100%" height="100%" fill="#fff"/>\n${body}\n</svg>\n`
    const su = startupChart(a, 0, 0, W, H)
    const tr = trumpetChart(a, 0, 0, W, H)
    put("startup.svg", svgDoc(W, H, su))
    put("trumpet.svg", svgDoc(W, H, tr))

    // One printable sheet: header, both charts, summary table.
    const rows = summaryRows(a, meta, stats)
    const title = `Infusion accuracy, IEC 60601-2-24 method: ${a.options.rateMlPerH} mL/h`
    const tableTop = 60 + 2 * (H + 10)
    const rowH = 18
    const sheetH = tableTop + 24 + rows.length * rowH + 20 + a.warnings.length * 16
    const sheet: string[] = [
        `<text x="16" y="30" font-size="19" font-weight="bold" ${FONT} fill="#111">${esc(title)}</text>`,
        `<text x="16" y="50" font-size="11" ${FONT} fill="#555">${esc(String(meta.source))} · started ${new Date(meta.startedEpochMs).toISOString()}</text>`,
        startupChart(a, 0, 60, W, H),
        trumpetChart(a, 0, 60 + H + 10, W, H),
        `<text x="16" y="${tableTop + 14}" font-size="14" font-weight="bold" ${FONT} fill="#111">Summary</text>`,
    ]
    rows.forEach((r, i) => {
        const y = tableTop + 24 + i * rowH
        if (i % 2 === 0) sheet.push(`<rect x="16" y="${y}" width="${W - 32}" height="${rowH}" fill="#f4f6f8"/>`)
        sheet.push(`<text x="24" y="${y + 13}" font-size="12" ${FONT} fill="#222">${esc(r.label)}</text>`)
        sheet.push(`<text x="${W - 24}" y="${y + 13}" font-size="12" ${FONT} text-anchor="end" fill="#111">${esc(r.value)}</text>`)
    })
    a.warnings.forEach((w, i) => {
        sheet.push(`<text x="16" y="${tableTop + 24 + rows.length * rowH + 16 + i * 16}" font-size="11" ${FONT} fill="#b03a2e">⚠ ${esc(w)}</text>`)
    })
    const sheetSvg = svgDoc(W, sheetH, sheet.join("\n"))
    put("report.svg", sheetSvg)
    try {
        const { Resvg } = await import("@resvg/resvg-js")
        const png = new Resvg(sheetSvg, { fitTo: { mode: "width", value: W * 1.5 }, font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } })
            .render()
            .asPng()
        put("report.png", Buffer.from(png))
    } catch (e) {
        stats["PNG"] = "not rendered: " + (e as Error).message
    }

    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:24px auto;max-width:800px;color:#222}
h1{font-size:22px} table{border-collapse:collapse;width:100%;margin-top:8px}
td{padding:4px 8px;border-bottom:1px solid #e3e6ea} td:last-child{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(odd){background:#f4f6f8} .warn{color:#b03a2e} figure{margin:12px 0} small{color:#666}
</style></head><body>
<h1>${esc(title)}</h1>
<p><small>${esc(String(meta.source))} · started ${new Date(meta.startedEpochMs).toISOString()} · report ${new Date().toISOString()}</small></p>
<figure>${svgDoc(W, H, su)}</figure>
<figure>${svgDoc(W, H, tr)}</figure>
<h2>Summary</h2>
<table>${rows.map(r => `<tr><td>${esc(r.label)}</td><td>${esc(r.value)}</td></tr>`).join("\n")}</table>
<h2>Trumpet data</h2>
<table><tr><td><b>P (min)</b></td><td><b>windows m</b></td><td><b>Ep(max) %</b></td><td><b>Ep(min) %</b></td></tr>
${a.trumpet.map(t => `<tr><td>${t.windowMin}</td><td>${t.windows}</td><td>${t.maxPct.toFixed(3)}</td><td>${t.minPct.toFixed(3)}</td></tr>`).join("\n")}</table>
${a.warnings.length > 0 ? `<h2>Warnings</h2><ul>${a.warnings.map(w => `<li class="warn">${esc(w)}</li>`).join("")}</ul>` : ""}
<p><small>Method and formulas: docs/bench-testing.md. Flow per ${a.options.sampleIntervalMin * 60} s interval; trumpet windows slide by one interval over the analysis period.</small></p>
</body></html>
`
    put("report.html", html)
    put("analysis.json", JSON.stringify({ meta, stats, analysis: a }, null, 2))
    return written
}
