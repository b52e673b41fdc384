// Bench plant: a small physical model of syringe, line and instruments implementing the shared
// Plant contract (hil-tests/plant/api.ts). `--sim` prefers the HIL plant model when it is on
// the branch; this one keeps the bench tool usable and testable on its own. It models what
// shapes a start-up and trumpet curve:
//   - plunger take-up slack: the first `slackUl` of displacement moves nothing (drive backlash,
//     plunger flange gap);
//   - line compliance: pressure builds until flow out of the line matches displacement
//     (first-order, time constant tau = compliance x resistance);
//   - lead-screw periodic error: displacement per step varies sinusoidally once per screw turn;
//   - a balance with 0.1 mg resolution, noise and optional evaporation; a flow meter with noise.

import type { Plant, PlantDrive, PlantSensorReadings, PlantTruth } from "../../hil-tests/plant/api"
import { findSyringe, microstepsPerMm, picolitresPerMicrostep, REFERENCE_MECHANICS } from "../../src/core/syringe"

/** Water at 20 °C (g/mL), what this plant's balance weighs. */
export const BENCH_PLANT_DENSITY = 0.9982067

export interface BenchPlantConfig {
    syringeId: string
    seed: number
    slackUl?: number
    /** Line compliance in µL per mmHg and outflow resistance in mmHg per (µL/s). */
    complianceUlPerMmHg?: number
    resistanceMmHgPerUlPerS?: number
    /** Amplitude of the lead-screw periodic error, as a fraction of displacement. */
    screwErrorFraction?: number
    balanceNoiseMg?: number
    evaporationMgPerH?: number
    occlusionLimitMmHg?: number
}

/** Deterministic PRNG (mulberry32) so a --sim run is reproducible from its seed. */
export function mulberry32(seed: number): () => number {
    let a = seed >>> 0
    return () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}

export function createBenchPlant(cfg: BenchPlantConfig): Plant {
    const syringe = findSyringe(cfg.syringeId)
    if (!syringe) throw new Error("unknown syringe " + cfg.syringeId)
    const ulPerStep = picolitresPerMicrostep(syringe, REFERENCE_MECHANICS) / 1e6
    const stepsPerRev = microstepsPerMm(REFERENCE_MECHANICS) * (REFERENCE_MECHANICS.leadUm / 1000)
    const slack = cfg.slackUl ?? 30
    const C = cfg.complianceUlPerMmHg ?? 1
    const R = cfg.resistanceMmHgPerUlPerS ?? 10
    const screwErr = cfg.screwErrorFraction ?? 0.02
    const noiseMg = cfg.balanceNoiseMg ?? 0.15
    const evapMgPerH = cfg.evaporationMgPerH ?? 0
    const limitMmHg = cfg.occlusionLimitMmHg ?? 1500
    const rnd = mulberry32(cfg.seed)
    const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd())
    const density = BENCH_PLANT_DENSITY

    let timeMs = 0
    let steps = 0
    let slackLeft = slack
    let displaced = 0 // µL the plunger pushed into the line
    let stored = 0 // µL held by line compliance
    let delivered = 0
    let lastFlowUlPerS = 0
    let occluded = false
    let stalled = false
    let engaged = true
    let door = false
    let battery = 4000
    let airUl = 0
    let sensorFault: "none" | "disconnected" | "stuck" | "shorted" = "none"

    const pressure = () => stored / C

    return {
        advance(dtMs: number, drive: PlantDrive) {
            timeMs += dtMs
            if (drive.motorEnabled && !stalled && engaged && drive.steps !== 0) {
                const n = drive.steps
                // Periodic error: local displacement per step depends on the screw angle.
                const angle = (2 * Math.PI * (steps + n / 2)) / stepsPerRev
                let dv = n * ulPerStep * (1 + screwErr * Math.sin(angle))
                steps += n
                if (slackLeft > 0 && dv > 0) {
                    const take = Math.min(slackLeft, dv)
                    slackLeft -= take
                    dv -= take
                }
                if (occluded && pressure() > limitMmHg) dv = 0 // the drive cannot push further
                displaced += dv
                stored += dv
            }
            // Outflow through the line resistance (first-order relaxation, exact for the step).
            if (!occluded) {
                const tau = (R * C) // s
                const out = stored * (1 - Math.exp(-dtMs / 1000 / tau))
                stored -= out
                delivered += out
                lastFlowUlPerS = out / (dtMs / 1000)
            } else lastFlowUlPerS = 0
        },
        sensors(): PlantSensorReadings {
            const p = sensorFault === "disconnected" ? 0 : sensorFault === "shorted" ? 4095 : Math.min(4095, Math.round(400 + pressure() * 1.5))
            return {
                pressureAdc: p,
                airInLine: airUl > 0,
                doorOpen: door,
                plungerEngaged: engaged,
                batteryMv: battery,
                firedSteps: steps,
                plungerPositionUm: Math.round((displaced / (Math.PI * (syringe.innerDiameterUm / 2000) ** 2)) * 1000),
            }
        },
        truth(): PlantTruth {
            return { timeMs, deliveredUl: delivered, displacedUl: displaced, linePressureMmHg: pressure(), airDeliveredUl: 0 }
        },
        flowMeterUlPerH() {
            return lastFlowUlPerS * 3600 * (1 + 0.005 * gauss())
        },
        balanceMg() {
            const mg = delivered * density - (evapMgPerH * timeMs) / 3_600_000 + noiseMg * gauss()
            return Math.round(mg * 10) / 10 // 0.1 mg readability
        },
        setDownstreamOcclusion(closed: boolean) {
            occluded = closed
        },
        setPlungerEngaged(e: boolean) {
            engaged = e
        },
        setDoorOpen(open: boolean) {
            door = open
        },
        injectBubble(volumeUl: number) {
            airUl += volumeUl
        },
        setPressureSensorFault(kind) {
            sensorFault = kind
        },
        setMotorStalled(s: boolean) {
            stalled = s
        },
        setBatteryMv(mv: number) {
            battery = mv
        },
    }
}
