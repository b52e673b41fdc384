// Downstream occlusion detector. With the line blocked, every µL the plunger displaces goes into
// the compliance C of syringe + line, so pressure rises by dV/C: at 1 mL/h and C ≈ 5 µL/mmHg
// that is 3.3 mmHg/min, far below any absolute limit for a long time (300 mmHg takes 90 min),
// but unmistakable as a trend. The detector therefore alarms when EITHER
//   trend:    the filtered pressure is >= riseMmHg above the running baseline AND it rose in
//             both halves of the last volume window by at least minRiseFraction of the rise
//             an occlusion of the estimated compliance would give (the rise tracks pumped
//             volume, which patient movement and bed-height steps do not), OR
//   absolute: the filtered pressure reaches the selected limit (300/500/900 mmHg), OR
//   ceiling:  the 1 s mean reaches 1034 mmHg (20 psi), with no other filtering.
// Filtering: 1 s means of the per-tick readings, then a median of 15 of them, which removes
// movement artefacts shorter than ~7 s. After an occlusion alarm the detector stays "suspect"
// (half thresholds and window) until the pump has pumped 2 windows of volume without a rise,
// so a restart against an uncleared occlusion re-alarms sooner (a cause-based check, not a flag).

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
    /** Baseline time constant upwards (ms); it follows drops immediately. */
    baselineTauMs: number
    medianLength: number
}

export const OCCLUSION_DEFAULTS: OcclusionConfig = {
    level: "medium",
    complianceUlPerMmHg: 5,
    riseMmHg: 20,
    windowMmHg: 16,
    minWindowMs: 20000,
    minRiseFraction: 0.4,
    baselineTauMs: 600000,
    medianLength: 15,
}

/** Compliance estimate the firmware assumes for a syringe of inner diameter d: line 2 µL/mmHg
 *  plus a stopper term scaling with area, 2.5 µL/mmHg at 26.59 mm (ASSUMPTION, to be measured
 *  per syringe model on the bench; see docs/README-safety.md). Deliberately the plant's nominal
 *  value: the sweep in test/safety varies the plant's true compliance around it. */
export function complianceEstimateFor(innerDiameterUm: number): number {
    const d = innerDiameterUm / 1000
    return 2 + (2.5 * d * d) / (26.59 * 26.59)
}

export interface OcclusionVerdict {
    alarm: boolean
    reason: string
}

const HISTORY = 900 // 15 min of 1 s samples

export class OcclusionDetector {
    cfg: OcclusionConfig
    private secStartMs = -1
    private secSum = 0
    private secN = 0
    private lastSecondMean = NaN
    private readonly recent: number[] = []
    private readonly histP: number[] = []
    private readonly histV: number[] = []
    private readonly histT: number[] = []
    private baseline = NaN
    private restMmHg = NaN
    private filtered = NaN
    private suspect = false
    private suspectStartVolUl = 0
    private volumeUl = 0
    private wasDelivering = false

    constructor(cfg: OcclusionConfig) {
        this.cfg = cfg
    }

    /** One control tick. `pumpedUl` is the volume the plunger was driven this tick (from the
     *  step engine's count), `delivering` whether the pump is delivering now. */
    update(nowMs: number, pressureMmHg: number, pumpedUl: number, delivering: boolean): OcclusionVerdict {
        if (delivering && !this.wasDelivering) {
            // Pressure with no flow, just before the (re)start: the back-off target.
            if (!isNaN(this.lastSecondMean)) this.restMmHg = this.lastSecondMean
        }
        this.wasDelivering = delivering
        if (pumpedUl > 0) this.volumeUl += pumpedUl
        if (this.secStartMs < 0) this.secStartMs = nowMs
        this.secSum += pressureMmHg
        this.secN++
        let verdict: OcclusionVerdict = { alarm: false, reason: "" }
        if (nowMs - this.secStartMs >= 1000) {
            const mean = this.secSum / this.secN
            this.lastSecondMean = mean
            this.secSum = 0
            this.secN = 0
            this.secStartMs = nowMs
            verdict = this.perSecond(nowMs, mean, delivering)
        }
        if (!isNaN(this.lastSecondMean) && this.lastSecondMean >= PRESSURE_CEILING_MMHG && delivering)
            verdict = { alarm: true, reason: "ceiling " + Math.round(this.lastSecondMean) + "mmHg" }
        return verdict
    }

    private perSecond(nowMs: number, mean: number, delivering: boolean): OcclusionVerdict {
        const c = this.cfg
        this.recent.push(mean)
        if (this.recent.length > c.medianLength) this.recent.shift()
        const pm = median(this.recent)
        this.filtered = pm
        this.histP.push(pm)
        this.histV.push(this.volumeUl)
        this.histT.push(nowMs)
        if (this.histP.length > HISTORY) {
            this.histP.shift()
            this.histV.shift()
            this.histT.shift()
        }
        if (isNaN(this.baseline)) this.baseline = pm
        if (isNaN(this.restMmHg)) this.restMmHg = pm
        if (pm >= occlusionLimitMmHg(c.level) && delivering) return { alarm: true, reason: "limit " + Math.round(pm) + "mmHg" }
        const rising = this.risingWithVolume()
        // Baseline: follows drops at once, rises slowly, and never while the rise tracks volume.
        if (pm < this.baseline) this.baseline = pm
        else if (!rising) this.baseline += ((pm - this.baseline) * 1000) / c.baselineTauMs
        const rise = pm - this.baseline
        const need = this.suspect ? c.riseMmHg / 2 : c.riseMmHg
        if (this.suspect && this.volumeUl - this.suspectStartVolUl > 2 * c.windowMmHg * c.complianceUlPerMmHg && rise < need) {
            this.suspect = false
        }
        if (delivering && rising && rise >= need) {
            return { alarm: true, reason: "trend +" + Math.round(rise) + "mmHg over baseline " + Math.round(this.baseline) + "mmHg" }
        }
        return { alarm: false, reason: "" }
    }

    /** Did the filtered pressure rise in both halves of the last volume window as an
     *  occlusion would (>= minRiseFraction of pumped volume / compliance)? */
    private risingWithVolume(): boolean {
        const c = this.cfg
        const n = this.histP.length
        if (n < 3) return false
        const last = n - 1
        const wMmHg = this.suspect ? c.windowMmHg / 2 : c.windowMmHg
        const wUl = wMmHg * c.complianceUlPerMmHg
        const vNow = this.histV[last]
        const tNow = this.histT[last]
        // Oldest sample that is both wUl back in volume and minWindowMs back in time.
        let j = -1
        for (let i = last - 1; i >= 0; i--) {
            if (vNow - this.histV[i] >= wUl && tNow - this.histT[i] >= c.minWindowMs) {
                j = i
                break
            }
        }
        if (j < 0) return false
        const vMid = (vNow + this.histV[j]) / 2
        let m = j
        for (let i = j; i <= last; i++) {
            if (this.histV[i] <= vMid) m = i
        }
        if (m === j || m === last) return false
        const e1 = (this.histV[m] - this.histV[j]) / c.complianceUlPerMmHg
        const e2 = (vNow - this.histV[m]) / c.complianceUlPerMmHg
        const r1 = this.histP[m] - this.histP[j]
        const r2 = this.histP[last] - this.histP[m]
        return r1 >= c.minRiseFraction * e1 && r2 >= c.minRiseFraction * e2 && e1 > 0 && e2 > 0
    }

    /** Call when OCCL_DOWN was raised: the next restart is checked with half thresholds. */
    markAlarm() {
        this.suspect = true
        this.suspectStartVolUl = this.volumeUl
    }

    isSuspect(): boolean {
        return this.suspect
    }

    baselineMmHg(): number {
        return this.baseline
    }

    filteredMmHg(): number {
        return this.filtered
    }

    /** Pressure the back-off aims for: the no-flow pressure before the last start. */
    backoffTargetMmHg(): number {
        const b = this.baseline
        const r = this.restMmHg
        if (isNaN(r)) return b
        return r < b ? r : b
    }
}

export function median(values: number[]): number {
    const a: number[] = []
    for (let i = 0; i < values.length; i++) a.push(values[i])
    a.sort((x, y) => x - y)
    const n = a.length
    if (n === 0) return NaN
    if (n % 2 === 1) return a[(n - 1) / 2]
    return (a[n / 2 - 1] + a[n / 2]) / 2
}
