// Pressure transducer plausibility: out of ADC range (open or short), stuck (a live front end
// dithers by >= 1 LSB), or implausibly low for 1 s (cannot occur in a pumped line).

export interface PressureCalibration {
    offsetCounts: number
    countsPerMmHg: number
}

export interface PressureSensorLimits {
    pressureCal: PressureCalibration
    adcMinCounts: number
    adcMaxCounts: number
    stuckMs: number
    implausibleLowMmHg: number
}

/** How long a reading below `implausibleLowMmHg` must last to count as a fault. */
const IMPLAUSIBLE_LOW_FOR_MS = 1000

export function countsToMmHg(cal: PressureCalibration, counts: number): number {
    return (counts - cal.offsetCounts) / cal.countsPerMmHg
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class PressureSensorCheck {
    private lastCounts = -1
    /** Since when the counts have not changed (the monitor reads it to log a stuck reading). */
    sameSinceMs = 0
    private lowSinceMs = -1

    /** true while the reading is plausible; `pMmHg` is `counts` converted (countsToMmHg). */
    update(nowMs: number, counts: number, pMmHg: number, c: PressureSensorLimits): boolean {
        let ok = true
        if (counts < c.adcMinCounts || counts > c.adcMaxCounts) ok = false
        if (counts !== this.lastCounts) {
            this.lastCounts = counts
            this.sameSinceMs = nowMs
        } else if (nowMs - this.sameSinceMs >= c.stuckMs) ok = false
        if (pMmHg < c.implausibleLowMmHg) {
            if (this.lowSinceMs < 0) this.lowSinceMs = nowMs
            if (nowMs - this.lowSinceMs >= IMPLAUSIBLE_LOW_FOR_MS) ok = false
        } else this.lowSinceMs = -1
        return ok
    }
}
