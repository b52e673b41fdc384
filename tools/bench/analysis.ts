// IEC 60601-2-24 style accuracy analysis of a bench recording (host tool, floats are fine here:
// this measures the pump, it does not dose). Formulas and their sources: docs/bench-testing.md.
//
// Every instrument is reduced to one thing first: cumulative delivered volume V(t) in mL. Then
// flow per 30 s sample interval, the start-up curve, the trumpet curve and overall accuracy
// are all differences of V on a regular grid, so a balance, a flow meter and the pump's own log
// are analysed by the same code.

import { BenchSample, RecordingMeta } from "./samples"

export interface AnalysisOptions {
    /** Set rate r in mL/h. */
    rateMlPerH: number
    /** Sample interval S in minutes (standard: 0.5). */
    sampleIntervalMin: number
    /** Test period T in minutes (standard: 120); the analysis period is its last `analysisMin`. */
    periodMin: number
    /** Length of the analysis period in minutes (standard: the second hour, 60). */
    analysisMin: number
    /** Observation windows P in minutes (standard: 2, 5, 11, 19, 31). */
    windowsMin: number[]
    /** Water temperature for the density correction when the recording has none (°C). */
    waterTempC: number
    /** Evaporation loss measured before the run (mg/h), added back to the balance reading. */
    evaporationMgPerH: number
    /** Liquid density (g/mL) if it is not water; null: water at the measured temperature. */
    liquidDensityGPerMl: number | null
    /** Apply the air-buoyancy correction to balance readings (ISO 4787 style). */
    airBuoyancy: boolean
    /** Post-occlusion bolus: volume collected in this many seconds after the occlusion is released. */
    bolusWindowS: number
}

export const DEFAULT_ANALYSIS: Omit<AnalysisOptions, "rateMlPerH"> = {
    sampleIntervalMin: 0.5,
    periodMin: 120,
    analysisMin: 60,
    windowsMin: [2, 5, 11, 19, 31],
    waterTempC: 20,
    evaporationMgPerH: 0,
    liquidDensityGPerMl: null,
    airBuoyancy: false,
    bolusWindowS: 60,
}

export interface TrumpetPoint {
    windowMin: number
    /** Number of windows m that fit in the analysis period. */
    windows: number
    maxPct: number
    minPct: number
}

export interface OcclusionResult {
    occludedAtS: number
    alarmAtS: number | null
    timeToAlarmS: number | null
    releasedAtS: number | null
    bolusUl: number | null
}

export interface Analysis {
    options: AnalysisOptions
    /** Grid times (min) and flow over the interval ending there (mL/h): the start-up curve. */
    startup: { tMin: number; flowMlPerH: number }[]
    /** Volume at every grid point (mL), grid[0] = 0 min. */
    gridVolumeMl: number[]
    trumpet: TrumpetPoint[]
    /** Mean flow over the analysis period (mL/h) and its deviation from r (%). */
    meanFlowMlPerH: number | null
    overallAccuracyPct: number | null
    /** Total volume collected over the period (mL). */
    totalVolumeMl: number
    recordedMin: number
    complete: boolean
    densityGPerMl: number
    sampleCount: number
    largestGapS: number
    occlusions: OcclusionResult[]
    warnings: string[]
    /** Why no result may be reported from this recording (empty: the data is usable). A report
     *  from invalid data is worse than none: callers must not write one when this is non-empty. */
    refused: string[]
}

/** Shortest and longest sample interval S the analysis accepts (the standard uses 30 s). */
export const MIN_SAMPLE_S = 1
export const MAX_SAMPLE_S = 600
/** A test period must hold at least this many sample intervals. */
export const MIN_INTERVALS = 4
/** A fall in delivered volume between two readings beyond this is not noise (50 µL = 50 mg of
 *  water; a 0.1 mg balance drifts far less): tare change, a leaking beaker, a reversed sign. */
export const MAX_VOLUME_FALL_ML = 0.05
/** A rise between two readings beyond this plus 10x the set rate's volume is not delivery
 *  (a released occlusion bolus is < 1 mL by design). */
export const MAX_VOLUME_JUMP_ML = 1

/** Reasons the options or the readings cannot give a meaningful result. */
export function recordingProblems(samples: BenchSample[], o: AnalysisOptions): string[] {
    const out: string[] = []
    const sS = o.sampleIntervalMin * 60
    if (!(sS >= MIN_SAMPLE_S && sS <= MAX_SAMPLE_S)) out.push(`sample interval ${sS} s is outside ${MIN_SAMPLE_S}..${MAX_SAMPLE_S} s`)
    const n = o.periodMin / o.sampleIntervalMin
    if (!(n >= MIN_INTERVALS) || Math.abs(n - Math.round(n)) > 1e-9)
        out.push(`test period ${o.periodMin} min must be a whole number (>= ${MIN_INTERVALS}) of ${sS} s sample intervals`)
    if (!(o.analysisMin > 0 && o.analysisMin <= o.periodMin)) out.push(`analysis period ${o.analysisMin} min must be within the ${o.periodMin} min test period`)
    const readings = samples.filter(x => x.kind !== "event")
    if (readings.length < 2) {
        out.push(`${readings.length} reading(s) in the recording: nothing to analyse (port never opened, every line malformed, or not an instrument file)`)
        return out
    }
    // Conflicting readings at one instant: which one is true cannot be known.
    const byT = new Map<string, number>()
    for (const x of readings) {
        const k = x.kind + "@" + x.tMs
        const prev = byT.get(k)
        if (prev !== undefined && prev !== x.value) {
            out.push(`conflicting ${x.kind} readings at t=${x.tMs / 1000} s (${prev} and ${x.value})`)
            break
        }
        byT.set(k, x.value)
    }
    const w: string[] = []
    const series = cumulativeVolume(samples, o, w)
    for (let i = 1; i < series.length; i++) {
        const d = series[i].ml - series[i - 1].ml
        const expected = (o.rateMlPerH * (series[i].tMs - series[i - 1].tMs)) / 3_600_000
        if (d < -MAX_VOLUME_FALL_ML) {
            out.push(`delivered volume falls by ${(-d).toFixed(3)} mL at t=${series[i].tMs / 1000} s (decreasing mass/volume: tare change, leak or a wrong reading)`)
            break
        }
        if (d > MAX_VOLUME_JUMP_ML + 10 * expected) {
            out.push(`delivered volume jumps by ${d.toFixed(3)} mL at t=${series[i].tMs / 1000} s (set rate gives ${expected.toFixed(3)} mL): an implausible reading`)
            break
        }
    }
    const total = series.length >= 2 ? series[series.length - 1].ml : 0
    if (total < -MAX_VOLUME_FALL_ML) out.push(`delivered volume falls by ${(-total).toFixed(3)} mL over the recording (decreasing mass/volume: tare change, leak or reversed sign)`)
    else if (total <= 0) out.push(`no volume delivered over the recording (${total.toFixed(3)} mL)`)
    return out
}

// ---- physics -------------------------------------------------------------------------------

/** Density of air-free pure water (g/mL) at `tC` °C: Tanaka et al., Metrologia 38 (2001) 301,
 *  the CIPM formula; valid 0..40 °C. */
export function waterDensityGPerMl(tC: number): number {
    const a1 = -3.983035
    const a2 = 301.797
    const a3 = 522528.9
    const a4 = 69.34881
    const a5 = 999.97495 // kg/m³
    const rho = a5 * (1 - ((tC + a1) * (tC + a1) * (tC + a2)) / (a3 * (tC + a4)))
    return rho / 1000
}

const AIR_DENSITY = 0.0012 // g/mL, ISO 4787 reference
const WEIGHT_DENSITY = 8.0 // g/mL, steel reference weights the balance is calibrated with

/** Volume (mL) of water that reads `massMg` on the balance. */
export function massToVolumeMl(massMg: number, tC: number, airBuoyancy: boolean, densityGPerMl: number | null = null): number {
    const g = massMg / 1000
    const rho = densityGPerMl ?? waterDensityGPerMl(tC)
    if (!airBuoyancy) return g / rho
    return (g * (1 - AIR_DENSITY / WEIGHT_DENSITY)) / (rho - AIR_DENSITY)
}

// ---- cumulative volume ---------------------------------------------------------------------

interface VolumePoint {
    tMs: number
    ml: number
}

/** Turns the recorded samples into a cumulative volume series. One recording holds one kind of
 *  measurand; mixing kinds is a recording error and is reported, not guessed around. */
export function cumulativeVolume(samples: BenchSample[], o: AnalysisOptions, warnings: string[]): VolumePoint[] {
    const kinds = new Set(samples.filter(s => s.kind !== "event").map(s => s.kind))
    if (kinds.size > 1) warnings.push("recording mixes measurands (" + [...kinds].join(", ") + "); only " + [...kinds][0] + " used")
    const kind = [...kinds][0]
    const data = samples.filter(s => s.kind === kind).sort((a, b) => a.tMs - b.tMs)
    const out: VolumePoint[] = []
    if (kind === "mass_mg") {
        // Tare at the first reading: V(t) counts what was collected since the recording began.
        const m0 = data.length > 0 ? data[0].value : 0
        for (const s of data) {
            const tC = Number.isFinite(s.tempC) ? s.tempC : o.waterTempC
            const evapMg = (o.evaporationMgPerH * (s.tMs - data[0].tMs)) / 3_600_000
            out.push({ tMs: s.tMs, ml: massToVolumeMl(s.value - m0 + evapMg, tC, o.airBuoyancy, o.liquidDensityGPerMl) })
        }
    } else if (kind === "volume_ul") {
        const v0 = data.length > 0 ? data[0].value : 0
        for (const s of data) out.push({ tMs: s.tMs, ml: (s.value - v0) / 1000 })
    } else if (kind === "flow_ul_h") {
        // Trapezoidal integration of the instantaneous flow.
        let ml = 0
        for (let i = 0; i < data.length; i++) {
            if (i > 0) {
                const dtH = (data[i].tMs - data[i - 1].tMs) / 3_600_000
                ml += (((data[i].value + data[i - 1].value) / 2) * dtH) / 1000
            }
            out.push({ tMs: data[i].tMs, ml })
        }
    }
    return out
}

/** Linear interpolation of V at `tMs`; null outside the recorded span. */
function volumeAt(series: VolumePoint[], tMs: number, from: { i: number }): number | null {
    if (series.length === 0 || tMs < series[0].tMs || tMs > series[series.length - 1].tMs) return null
    let i = from.i
    while (i + 1 < series.length && series[i + 1].tMs < tMs) i++
    from.i = i
    const a = series[i]
    const b = i + 1 < series.length ? series[i + 1] : a
    if (b.tMs === a.tMs) return a.ml
    return a.ml + ((b.ml - a.ml) * (tMs - a.tMs)) / (b.tMs - a.tMs)
}

// ---- the analysis --------------------------------------------------------------------------

export function analyse(samples: BenchSample[], o: AnalysisOptions, meta?: RecordingMeta): Analysis {
    const warnings: string[] = []
    if (!(o.rateMlPerH > 0)) throw new Error("set rate must be > 0 mL/h")
    const refused = recordingProblems(samples, o)
    if (refused.length > 0)
        return {
            options: o, startup: [], gridVolumeMl: [], trumpet: [], meanFlowMlPerH: null, overallAccuracyPct: null, totalVolumeMl: 0,
            recordedMin: 0, complete: false, densityGPerMl: NaN, sampleCount: 0, largestGapS: 0, occlusions: [], warnings, refused,
        }
    const series = cumulativeVolume(samples, o, warnings)
    const sMs = o.sampleIntervalMin * 60_000
    const t0 = series.length > 0 ? series[0].tMs : 0
    const lastMs = series.length > 0 ? series[series.length - 1].tMs : 0
    const recordedMin = (lastMs - t0) / 60_000
    const nPeriod = Math.round(o.periodMin / o.sampleIntervalMin)
    const grid: number[] = []
    const cursor = { i: 0 }
    for (let k = 0; k <= nPeriod; k++) {
        const v = volumeAt(series, t0 + k * sMs, cursor)
        if (v === null) break
        grid.push(v)
    }
    const startup: { tMin: number; flowMlPerH: number }[] = []
    for (let k = 1; k < grid.length; k++) {
        startup.push({ tMin: k * o.sampleIntervalMin, flowMlPerH: ((grid[k] - grid[k - 1]) * 60) / o.sampleIntervalMin })
    }
    const complete = grid.length === nPeriod + 1
    if (!complete) warnings.push(`recording covers ${recordedMin.toFixed(1)} min of the ${o.periodMin} min test period`)

    // Analysis period: the last `analysisMin` of the test period (the second hour).
    const kStart = nPeriod - Math.round(o.analysisMin / o.sampleIntervalMin)
    const r = o.rateMlPerH
    const trumpet: TrumpetPoint[] = []
    let meanFlow: number | null = null
    let accuracy: number | null = null
    if (complete && kStart >= 0) {
        meanFlow = ((grid[nPeriod] - grid[kStart]) * 60) / o.analysisMin
        accuracy = (100 * (meanFlow - r)) / r
        for (const p of o.windowsMin) {
            const n = Math.round(p / o.sampleIntervalMin)
            let maxPct = -Infinity
            let minPct = Infinity
            let m = 0
            // Windows slide by one sample interval: window j spans grid[j]..grid[j+n].
            for (let j = kStart; j + n <= nPeriod; j++) {
                const q = ((grid[j + n] - grid[j]) * 60) / p
                const e = (100 * (q - r)) / r
                if (e > maxPct) maxPct = e
                if (e < minPct) minPct = e
                m++
            }
            if (m > 0) trumpet.push({ windowMin: p, windows: m, maxPct, minPct })
        }
    }

    // An alarm inside the test period means the pump stopped: the curves after it are not
    // steady infusion, and the reader must know.
    for (const e of samples) {
        if (e.kind === "event" && e.note.startsWith("alarm:") && e.tMs - t0 <= o.periodMin * 60_000)
            warnings.push(`pump alarm ${e.note.slice(6)} at ${((e.tMs - t0) / 60_000).toFixed(2)} min, inside the test period`)
    }

    let largestGap = 0
    for (let i = 1; i < series.length; i++) largestGap = Math.max(largestGap, series[i].tMs - series[i - 1].tMs)
    if (largestGap > sMs) warnings.push(`largest gap between readings is ${(largestGap / 1000).toFixed(0)} s (longer than one sample interval)`)

    const tMean = meanTemperature(samples)
    return {
        options: o,
        startup,
        gridVolumeMl: grid,
        trumpet,
        meanFlowMlPerH: meanFlow,
        overallAccuracyPct: accuracy,
        totalVolumeMl: grid.length > 0 ? grid[grid.length - 1] : 0,
        recordedMin,
        complete,
        densityGPerMl: o.liquidDensityGPerMl ?? waterDensityGPerMl(Number.isFinite(tMean) ? tMean : o.waterTempC),
        sampleCount: series.length,
        largestGapS: largestGap / 1000,
        occlusions: occlusions(samples, series, o),
        warnings: warnings.concat(meta && meta.warnings ? meta.warnings : []),
        refused: [],
    }
}

function meanTemperature(samples: BenchSample[]): number {
    let sum = 0
    let n = 0
    for (const s of samples) if (s.kind !== "event" && Number.isFinite(s.tempC)) (sum += s.tempC), n++
    return n > 0 ? sum / n : NaN
}

/** Occlusion test: time from closing the line to the first alarm, and the bolus collected in
 *  `bolusWindowS` after the occlusion is released. Events come from the recording's event rows
 *  (`occlusion_on`, `alarm:<code>`, `occlusion_off`). */
function occlusions(samples: BenchSample[], series: VolumePoint[], o: AnalysisOptions): OcclusionResult[] {
    const events = samples.filter(s => s.kind === "event").sort((a, b) => a.tMs - b.tMs)
    const out: OcclusionResult[] = []
    let cur: OcclusionResult | null = null
    for (const e of events) {
        if (e.note === "occlusion_on") {
            cur = { occludedAtS: e.tMs / 1000, alarmAtS: null, timeToAlarmS: null, releasedAtS: null, bolusUl: null }
            out.push(cur)
        } else if (cur && e.note.startsWith("alarm:") && cur.alarmAtS === null && cur.releasedAtS === null) {
            cur.alarmAtS = e.tMs / 1000
            cur.timeToAlarmS = cur.alarmAtS - cur.occludedAtS
        } else if (cur && e.note === "occlusion_off" && cur.releasedAtS === null) {
            cur.releasedAtS = e.tMs / 1000
            const c = { i: 0 }
            const v0 = volumeAt(series, e.tMs, c)
            const v1 = volumeAt(series, e.tMs + o.bolusWindowS * 1000, c)
            if (v0 !== null && v1 !== null) cur.bolusUl = (v1 - v0) * 1000
        }
    }
    return out
}
