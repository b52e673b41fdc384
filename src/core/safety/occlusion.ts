// Downstream occlusion detector. With the line blocked, every µL the plunger displaces goes into
// the compliance C of syringe + line, so pressure rises by dV/C: at 1 mL/h and C ≈ 5 µL/mmHg
// that is 3.3 mmHg/min, far below any absolute limit for a long time (300 mmHg takes 90 min),
// but unmistakable as a trend. The detector therefore alarms when EITHER
//   trend:    the filtered pressure is >= riseMmHg above the running baseline AND it rose in
//             each third of the last volume window by at least minRiseFraction of the rise
//             an occlusion of the estimated compliance would give (the rise tracks pumped
//             volume, which patient movement and bed-height steps do not), OR
//   absolute: the filtered pressure reaches the selected limit (300/500/900 mmHg), OR
//   ceiling:  the 1 s mean reaches 1034 mmHg (20 psi), with no other filtering.
// Filtering: 1 s means of the per-tick readings, then a median of 31 of them, which removes
// movement artefacts shorter than ~15 s; the trend condition must then hold for 10 s in a row. After an occlusion alarm the detector stays "suspect"
// (half thresholds and window) until the pump has pumped 2 windows of volume without a rise,
// so a restart against an uncleared occlusion re-alarms sooner (a cause-based check, not a flag).

import { Int32Store } from "../int32Store"

export type OcclusionLevel = "low" | "medium" | "high"

/** Absolute limits per level (mmHg); the hard ceiling is 20 psi = 1034 mmHg. */
export function occlusionLimitMmHg(level: OcclusionLevel): number {
    if (level === "low") return 300
    if (level === "medium") return 500
    return 900
}
export const PRESSURE_CEILING_MMHG = 1034

export interface OcclusionConfig {
    level: OcclusionLevel
    /** Estimated compliance of syringe + line (µL/mmHg) for the loaded syringe. */
    complianceUlPerMmHg: number
    riseMmHg: number
    /** Window of pumped volume expressed as the pressure an occlusion would add over it. */
    windowMmHg: number
    minWindowMs: number
    minRiseFraction: number
    /** Number of equal-volume segments of the window that must each rise. */
    segments: number
    /** Smallest segment (µL): two stick-slip jumps of the plunger seal (ASSUMPTION: 50 mL seal
     *  slips ~15 µL at a time with 3 N between static and sliding friction), so a segment never
     *  falls between two slips of a genuinely rising staircase. */
    minSegmentUl: number
    /** Baseline time constants (ms): slow upwards, faster downwards. */
    baselineTauMs: number
    baselineDownTauMs: number
    medianLength: number
    /** The trend condition must hold this long (ms; evaluated once a second). */
    confirmMs: number
}

/** Shared "no alarm" verdict: the tick allocates nothing when all is well (never mutated). */
export const NO_ALARM: OcclusionVerdict = { alarm: false, reason: "" }

export const OCCLUSION_DEFAULTS: OcclusionConfig = {
    level: "medium",
    complianceUlPerMmHg: 5,
    riseMmHg: 20,
    windowMmHg: 16,
    minWindowMs: 20000,
    minRiseFraction: 0.3,
    segments: 3,
    minSegmentUl: 30,
    baselineTauMs: 600000,
    baselineDownTauMs: 60000,
    medianLength: 31,
    confirmMs: 10000,
}

/** Copy of `c` (explicit copy: no object spread on the device) with the compliance the firmware
 *  assumes for a syringe of inner diameter d: line 2 µL/mmHg plus a stopper term scaling with
 *  area, 2.5 µL/mmHg at 26.59 mm (ASSUMPTION, to be measured per syringe model on the bench).
 *  Deliberately the plant's nominal value: the sweep in test/safety varies the plant's true
 *  compliance around it. */
export function withSyringeCompliance(c: OcclusionConfig, innerDiameterUm: number): OcclusionConfig {
    // Field by field over Object.keys: one loop instead of twelve literal fields in the image.
    const o: any = {}
    const k = Object.keys(c)
    for (let i = 0; i < k.length; i++) o[k[i]] = (c as any)[k[i]]
    const d = innerDiameterUm / 1000
    o.complianceUlPerMmHg = 2 + (2.5 * d * d) / (26.59 * 26.59)
    return o
}

export interface OcclusionVerdict {
    alarm: boolean
    reason: string
}

/** Pressure/volume history: one sample per second for 15 min. */
const HISTORY_SAMPLES = 900
/** History resolution: pressure in 1e-5 mmHg (int32 holds +-21 474 mmHg; the sensor reads at most
 *  ~1 700), volume in nL (int32 holds 2 147 mL), time in ms modulo 2^32 (only differences within
 *  the 15 min window are compared, so wrap-around after 49 days is harmless). */
const P_UNITS_PER_MMHG = 100000
const NL_PER_UL = 1000
/** Sample times are kept for the newest TIME_SAMPLES samples only (256 B instead of 3.6 KB of VM
 *  heap, TODO-HEAP-1). Exact: a sample closes a second of >= 1000 ms, so samples are >= 1000 ms
 *  apart and the newest sample at least minWindowMs old is at most ceil(minWindowMs / 1000)
 *  samples back; time is searched for nothing else. Covers minWindowMs up to 63 s. */
const TIME_SAMPLES = 64
/** Volume (µL) below which no stored volume has wrapped (x 1000 < 2^31 - 1 nL): the volume only
 *  grows, so every sample in the history is at most this and the history never decreases. */
const HINT_MAX_UL = 2147483

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class OcclusionDetector {
    cfg: OcclusionConfig
    private secStartMs = -1
    private secSum = 0
    private secN = 0
    private lastSecondMean = NaN
    private readonly recent: number[] = []
    /** The same values as `recent`, kept sorted as they come and go (perSecond). */
    private readonly sorted: number[] = []
    // 8 bytes per sample (7.2 KB when full) plus 64 times, in small chunks: see Int32Store.
    private readonly histP = new Int32Store(HISTORY_SAMPLES)
    private readonly histV = new Int32Store(HISTORY_SAMPLES)
    private readonly histT = new Int32Store(TIME_SAMPLES)
    private histStart = 0
    private histN = 0
    /** Samples stored since start: the newest one's time is at histT[(samplesTotal - 1) % TIME_SAMPLES]. */
    private samplesTotal = 0
    private baseline = NaN
    private restMmHg = NaN
    /** Unset until the first second (filteredMmHg() gives NaN). */
    private filtered: number
    /** Unset (falsy) until markAlarm. */
    private suspect: boolean
    /** Set by markAlarm (read only while suspect). */
    private suspectStartVolUl: number
    private volumeUl = 0
    /** Unset (falsy) until the first update. */
    private wasDelivering: boolean
    /** Consecutive 1 s evaluations with the trend condition true. */
    private heldSeconds = 0
    /** Where the next window search starts (a sample count: the ring moves; unset at first). */
    private jvNext: number

    constructor(cfg: OcclusionConfig) {
        // 63000 = (TIME_SAMPLES - 1) x 1000, written out (the VM image folds no constants).
        if (cfg.minWindowMs > 63000) throw new RangeError("occlusion minWindowMs above 63000 ms: the time history is too short")
        this.cfg = cfg
    }

    /** One control tick. `pumpedUl` is the volume the plunger was driven this tick (from the
     *  step engine's count), `delivering` whether the pump is delivering now. */
    update(nowMs: number, pressureMmHg: number, pumpedUl: number, delivering: boolean): OcclusionVerdict {
        // (wasDelivering starts unset: differs from both.)
        if (delivering !== this.wasDelivering) {
            // Pressure with no flow, just before the (re)start: the back-off target.
            if (delivering && !isNaN(this.lastSecondMean)) this.restMmHg = this.lastSecondMean
            this.wasDelivering = delivering
        }
        if (pumpedUl > 0) this.volumeUl += pumpedUl
        if (this.secStartMs < 0) this.secStartMs = nowMs
        this.secSum += pressureMmHg
        this.secN++
        let verdict = NO_ALARM
        if (nowMs - this.secStartMs >= 1000) {
            const mean = this.secSum / this.secN
            this.lastSecondMean = mean
            this.secSum = 0
            this.secN = 0
            this.secStartMs = nowMs
            verdict = this.perSecond(nowMs, mean, delivering)
        }
        // (NaN before the first second compares false.)
        if (delivering && this.lastSecondMean >= PRESSURE_CEILING_MMHG)
            verdict = { alarm: true, reason: "ceiling " + Math.round(this.lastSecondMean) + "mmHg" }
        return verdict
    }

    private perSecond(nowMs: number, mean: number, delivering: boolean): OcclusionVerdict {
        const c = this.cfg
        // Median of the last medianLength means: the window is kept sorted, one value out and one
        // in per second (issue 16: sorting 31 values every second cost ~3,000 VM opcodes, more
        // than the rest of the second's ticks together). Same multiset, so the same median().
        const win = this.recent
        const a = this.sorted
        win.push(mean)
        let i = a.length
        if (win.length > c.medianLength) {
            const old = win.shift()
            // The first slot holding `old`, found by halving (a is sorted and holds it).
            i = 0
            let hi = a.length - 1
            while (i < hi) {
                const m = (i + hi) >> 1
                if (a[m] < old) i = m + 1
                else hi = m
            }
        } else a.push(mean)
        // Slot i is free: move the new value to its place.
        while (i > 0 && a[i - 1] > mean) {
            a[i] = a[i - 1]
            i--
        }
        while (i < a.length - 1 && a[i + 1] < mean) {
            a[i] = a[i + 1]
            i++
        }
        a[i] = mean
        const len = a.length
        const pm = len % 2 === 1 ? a[(len - 1) / 2] : (a[len / 2 - 1] + a[len / 2]) / 2
        this.filtered = pm
        // Ring buffer: O(1) per second (shifting 900-entry arrays would cost the 20 ms tick).
        const start = this.histStart
        const n = this.histN
        let slot = (start + n) % HISTORY_SAMPLES
        if (n === HISTORY_SAMPLES) {
            slot = start
            this.histStart = (start + 1) % HISTORY_SAMPLES
        } else this.histN = n + 1
        this.histP.set(slot, Math.round(pm * P_UNITS_PER_MMHG))
        this.histV.set(slot, Math.round(this.volumeUl * NL_PER_UL))
        this.histT.set(this.samplesTotal % TIME_SAMPLES, nowMs)
        this.samplesTotal++
        if (isNaN(this.baseline)) this.baseline = pm
        if (isNaN(this.restMmHg)) this.restMmHg = pm
        if (pm >= occlusionLimitMmHg(c.level) && delivering) return { alarm: true, reason: "limit " + Math.round(pm) + "mmHg" }
        const rising = this.risingWithVolume()
        // Baseline: follows drops within a minute, rises slowly, never while the rise tracks volume.
        // (Kept in a local: the same arithmetic, fewer field reads in the image.)
        let base = this.baseline
        if (pm < base) base += ((pm - base) * 1000) / c.baselineDownTauMs
        else if (!rising) base += ((pm - base) * 1000) / c.baselineTauMs
        this.baseline = base
        const rise = pm - base
        const suspect = this.suspect
        const need = suspect ? c.riseMmHg / 2 : c.riseMmHg
        if (suspect && this.volumeUl - this.suspectStartVolUl > 2 * c.windowMmHg * c.complianceUlPerMmHg && rise < need) {
            this.suspect = false
        }
        if (delivering && rising && rise >= need) this.heldSeconds++
        else this.heldSeconds = 0
        if (this.heldSeconds * 1000 >= c.confirmMs) {
            return { alarm: true, reason: "trend +" + Math.round(rise) + "mmHg over baseline " + Math.round(base) + "mmHg" }
        }
        return NO_ALARM
    }

    /** Volume (µL) of logical sample i, oldest first. */
    private v(i: number): number {
        return this.histV.get((this.histStart + i) % HISTORY_SAMPLES) / NL_PER_UL
    }

    /** Last logical index in [lo, hi] whose volume is <= v; lo - 1 if none. A binary search whose
     *  first three probes are `hint` and its neighbours while the stored volumes cannot decrease
     *  (below HINT_MAX_UL): the answer is then the same whatever the probe order, and in steady
     *  delivery the hint is within a sample of it (2-3 reads instead of ~10). Otherwise every
     *  probe is the midpoint, as before (past 2^31 nL the int32 history wraps). */
    private lastWithVolumeAtMost(v: number, lo: number, hi: number, hint: number): number {
        let a = lo
        let b = hi
        let found = lo - 1
        // (An unset hint is NaN: every comparison with it is false.)
        let near = hint >= lo && hint <= hi && this.volumeUl < HINT_MAX_UL ? 3 : 0
        let mid = hint
        while (a <= b) {
            // After a probe at the hint the next one is next to it, at a or b.
            if (near-- <= 0) mid = (a + b) >> 1
            if (this.v(mid) <= v) {
                found = mid
                a = ++mid
            } else b = --mid
        }
        return found
    }

    /** Did the filtered pressure rise in every segment of the last volume window as an
     *  occlusion would (>= minRiseFraction of pumped volume / compliance)? Binary searches
     *  only: O(log n) per second. */
    private risingWithVolume(): boolean {
        const c = this.cfg
        const n = this.histN
        if (n < 3) return false
        const last = n - 1
        const wMmHg = this.suspect ? c.windowMmHg / 2 : c.windowMmHg
        let wUl = wMmHg * c.complianceUlPerMmHg
        if (wUl < c.segments * c.minSegmentUl) wUl = c.segments * c.minSegmentUl
        const vNow = this.v(last)
        // Newest sample that is both wUl back in volume and minWindowMs back in time.
        // Hint: one sample after last second's answer (kept as a sample count: the ring moves).
        const first = this.samplesTotal - n
        const jv = this.lastWithVolumeAtMost(vNow - wUl, 0, last - 1, this.jvNext - first)
        this.jvNext = first + jv + 1
        // Last logical index at least minWindowMs old (times compared as 32-bit differences, exact
        // within the window), among the samples whose time is kept (the answer is never older:
        // see TIME_SAMPLES); -1 if none. Samples are >= 1000 ms apart (whole ms), so sample
        // last - 1 - floor(minWindowMs / 1000) is old enough: walk up from there while the next
        // one is too (times only increase, so the walk ends where a binary search would; 2 reads
        // instead of 6). A short history walks from lo. The walk only raises jt, so with jv below
        // a start inside the kept times the window starts at jv whatever jt is: no walk (at low
        // rates the volume window is the longer one).
        const lo = n > TIME_SAMPLES ? n - TIME_SAMPLES : 0
        const agoMs = c.minWindowMs
        let jt = last - 1 - Math.floor(agoMs / 1000)
        if (jt > last - 1) jt = last - 1
        if (jt < lo) jt = lo - 1
        if (jv >= jt || jt < lo) {
            // Sample times (ms, modulo 2^32) of logical sample i are at (first + i) % TIME_SAMPLES;
            // only the newest TIME_SAMPLES are kept.
            const tNow = this.histT.get((this.samplesTotal - 1) % TIME_SAMPLES)
            while (jt < last - 1 && ((tNow - this.histT.get((first + jt + 1) % TIME_SAMPLES)) | 0) >= agoMs) jt++
            if (jt < lo) jt = -1
        }
        const j = jv < jt ? jv : jt
        if (j < 0) return false
        // Split the window into equal volume segments; every one must show its share of the
        // rise. A bed-height step or a movement artefact lands in one or two segments only.
        // Each segment starts where the last ended: its volume and pressure are carried over, not
        // read again (the same values, so the same sums).
        const segs = c.segments
        const vj = this.v(j)
        let prevIdx = j
        let vPrev = vj
        let pPrev = this.histP.get((this.histStart + j) % HISTORY_SAMPLES) / P_UNITS_PER_MMHG
        for (let k = 1; k <= segs; k++) {
            let idx = last
            // Hint: where the boundary falls if the volume grew evenly.
            if (k < segs) idx = this.lastWithVolumeAtMost(vj + ((vNow - vj) * k) / segs, prevIdx, last, prevIdx + (((last - j) / segs) | 0))
            if (idx <= prevIdx) return false
            const vIdx = this.v(idx)
            const expected = (vIdx - vPrev) / c.complianceUlPerMmHg
            // Filtered pressure (mmHg) of logical samples idx and prevIdx.
            const pIdx = this.histP.get((this.histStart + idx) % HISTORY_SAMPLES) / P_UNITS_PER_MMHG
            const rose = pIdx - pPrev
            if (!(expected > 0) || rose < c.minRiseFraction * expected) return false
            prevIdx = idx
            vPrev = vIdx
            pPrev = pIdx
        }
        return true
    }

    /** Call when OCCL_DOWN was raised: the next restart is checked with half thresholds.
     *  Returns the pressure the back-off aims for: the no-flow pressure before the last start
     *  (the baseline when there is none, or when the baseline is lower). */
    markAlarm(): number {
        this.suspect = true
        this.suspectStartVolUl = this.volumeUl
        const b = this.baseline
        const r = this.restMmHg
        return r < b ? r : b
    }

    isSuspect(): boolean {
        return this.suspect === true
    }

    baselineMmHg(): number {
        return this.baseline
    }

    filteredMmHg(): number {
        return +this.filtered
    }
}

/** Sorting scratch of median(), grown to the longest input once and reused: a fresh copy every
 *  second was a steady 280-byte allocation per second in the VM heap (TODO-HEAP-1). */
const medianScratch: number[] = []

export function median(values: number[]): number {
    const n = values.length
    if (n === 0) return NaN
    const a = medianScratch
    while (a.length < n) a.push(0)
    // Insertion sort of a[0..n): no allocation, and n is the filter length (31).
    for (let i = 0; i < n; i++) {
        const x = values[i]
        let j = i - 1
        while (j >= 0 && a[j] > x) {
            a[j + 1] = a[j]
            j--
        }
        a[j + 1] = x
    }
    if (n % 2 === 1) return a[(n - 1) / 2]
    return (a[n / 2 - 1] + a[n / 2]) / 2
}
