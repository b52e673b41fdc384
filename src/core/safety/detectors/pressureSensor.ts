// Pressure transducer calibration and limits. The plausibility check itself (out of ADC range,
// stuck, implausibly low for 1 s) runs inline in SafetyMonitor.detect (every period).

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

export function countsToMmHg(cal: PressureCalibration, counts: number): number {
    return (counts - cal.offsetCounts) / cal.countsPerMmHg
}
