// Physical plant of a syringe pump and its patient line: stepper + lead screw, syringe (friction,
// stiction, stopper compliance), line + filter (resistance, compliance), patient venous pressure
// with movement artefacts, downstream occlusion, plunger disengagement, air bubbles and the
// sensors/instruments that see it. Lumped-parameter, deterministic for a given seed.
//
// Units inside: mm, N, mmHg, µL, s. 1 mmHg = 133.322 Pa = 133.322e-6 N/mm².
//
// Every default below either cites where the number comes from or is marked ASSUMPTION: a value
// chosen to be plausible that must be measured on the bench rig (docs/requirements.md, "Not verified
// here (yet)", says so).

import { findSyringe, microstepsPerMm, REFERENCE_MECHANICS, Mechanics, SyringeSpec } from "../../src/core/syringe"
import { Instruments, Plant, PlantDrive, PlantSensorReadings, PlantTruth, SensorFaultMode, SensorName } from "./api"
import { Rng } from "./rng"

export const N_PER_MM2_PER_MMHG = 133.322e-6

export interface PressureSensorConfig {
    /** Nominal transfer: counts = offsetCounts + countsPerMmHg × P. 0.5–4.5 V ratiometric
     *  0–30 psi gauge transducer into a 12-bit ADC: 10 % of full scale at 0, 3276 counts per
     *  1551 mmHg = 2.112 counts/mmHg (datasheet-style transfer of e.g. Honeywell MPR/ABP). */
    offsetCounts: number
    countsPerMmHg: number
    /** Unit-to-unit errors (ASSUMPTION: ±1.5 % FS offset, ±2 % gain, typical for an
     *  uncalibrated amplified gauge sensor; the firmware tares at start, so these are tested). */
    offsetErrorCounts: number
    gainError: number
    /** White noise, counts RMS (ASSUMPTION: 1.5 counts ≈ 0.7 mmHg; to be measured). */
    noiseCounts: number
    /** Offset drift, mmHg per hour (ASSUMPTION: 0.5 mmHg/h thermal drift, to be measured). */
    driftMmHgPerH: number
}

export interface PlantConfig {
    seed: number
    syringeId: string
    mechanics: Mechanics
    /** Motor pull-out force at standstill (N) seen at the nut; falls linearly to 0 at
     *  maxStepRate. ASSUMPTION: 0.3 N·m NEMA17 through a 1 mm lead screw at 25 % efficiency
     *  = 2π·0.3·0.25/0.001 ≈ 470 N; derated to 250 N for microstepping torque ripple. */
    pullOutForceN: number
    maxStepRate: number
    /** Plunger seal friction (N). ASSUMPTION for a 50 mL syringe: breakaway 9 N, sliding 6 N
     *  (ISO 7886-2 requires plunger forces to stay below limits, but does not give these); to be
     *  measured with the force gauge on each syringe model. */
    staticFrictionN: number
    kineticFrictionN: number
    /** Below this plunger speed (mm/s) the seal sticks again (Stribeck knee). ASSUMPTION. */
    stickSpeedMmPerS: number
    /** Time below that speed after which the seal sticks (s). ASSUMPTION: 0.5 s. */
    stickDwellS: number
    /** Axial stiffness of drive train + plunger rod + stopper (N/mm). ASSUMPTION: 100 N/mm. */
    driveStiffnessNPerMm: number
    /** Volume compliance of the syringe stopper and barrel (µL/mmHg). ASSUMPTION, scaled by
     *  stopper area; 50 mL ≈ 2.5 µL/mmHg. Published syringe compliance for 50 mL syringes lies
     *  around 1–5 µL/mmHg; to be measured (pressure step vs displaced volume). */
    syringeComplianceUlPerMmHg: number
    /** Extension set + filter compliance (µL/mmHg). A typical PVC extension set is ~1–3
     *  µL/mmHg; 2.0 used (ASSUMPTION, to be measured). */
    lineComplianceUlPerMmHg: number
    /** Flow resistance (mmHg per µL/s) of line, in-line filter and catheter. ASSUMPTION: 30 mmHg
     *  extra at 100 mL/h (27.8 µL/s) in total ≈ 1.1 mmHg·s/µL. */
    lineResistance: number
    filterResistance: number
    catheterResistance: number
    /** Patient venous pressure (mmHg), typical peripheral venous pressure 5–10 mmHg. */
    venousMmHg: number
    /** Movement artefacts: mean interval (s), amplitude range (mmHg), duration range (s).
     *  ASSUMPTION: arm flexion / coughing give brief 5–40 mmHg transients (to be recorded on a
     *  volunteer line before relying on it). */
    artefactMeanIntervalS: number
    artefactMinMmHg: number
    artefactMaxMmHg: number
    artefactMinS: number
    artefactMaxS: number
    /** Posture / bed-height changes: mean interval (s) and max step (mmHg); 10 cm height = 7.4
     *  mmHg hydrostatic. ASSUMPTION: ±20 cm every ~3 h. */
    postureMeanIntervalS: number
    postureMaxMmHg: number
    /** Breathing modulation, mmHg amplitude, period s. */
    respirationMmHg: number
    respirationPeriodS: number
    pressure: PressureSensorConfig
    /** Line volume from the syringe to the air detector and to the patient (µL); detector
     *  window (µL). 1.0 mm ID tubing = 0.785 µL/mm. ASSUMPTION: detector 60 mm from the syringe,
     *  150 cm line (≈ 1.2 mL), 3 mm window. */
    airSensorAtUl: number
    airWindowUl: number
    lineVolumeUl: number
    /** Smallest bubble the ultrasonic detector sees (µL). ASSUMPTION: 2 µL. */
    airMinDetectUl: number
    /** Plunger position sensor: linear potentiometer into 12-bit ADC over 90 mm = 22 µm/count;
     *  noise in counts RMS (ASSUMPTION 0.5). */
    positionUmPerCount: number
    positionNoiseCounts: number
    /** Flow meter: first-order lag (s) and noise (fraction of reading + µL/h floor). ASSUMPTION
     *  resembling a thermal liquid flow sensor (e.g. Sensirion SLF3x: ~5 % of reading). */
    flowLagS: number
    flowNoiseFraction: number
    flowNoiseFloorUlPerH: number
    /** Balance: resolution and noise in mg, evaporation in mg/h; water density 1 mg/µL. */
    balanceResolutionMg: number
    balanceNoiseMg: number
    evaporationMgPerH: number
    batteryMv: number
    /** Internal integration step (ms); advance() subdivides longer intervals. */
    maxSubstepMs: number
}

/** Stopper compliance scaled by barrel cross-section from the 50 mL assumption. */
export function syringeComplianceFor(s: SyringeSpec): number {
    const ref = 26.59 * 26.59
    const d = s.innerDiameterUm / 1000
    return (2.5 * d * d) / ref
}

export function defaultPlantConfig(overrides: Partial<PlantConfig> = {}): PlantConfig {
    const syringeId = overrides.syringeId ?? "bd-plastipak-50"
    const s = findSyringe(syringeId)
    if (!s) throw new Error("unknown syringe " + syringeId)
    const base: PlantConfig = {
        seed: 1,
        syringeId,
        mechanics: REFERENCE_MECHANICS,
        pullOutForceN: 250,
        maxStepRate: 20000,
        staticFrictionN: 9,
        kineticFrictionN: 6,
        stickSpeedMmPerS: 0.005,
        stickDwellS: 0.5,
        driveStiffnessNPerMm: 100,
        syringeComplianceUlPerMmHg: syringeComplianceFor(s),
        lineComplianceUlPerMmHg: 2.0,
        lineResistance: 0.3,
        filterResistance: 0.3,
        catheterResistance: 0.5,
        venousMmHg: 7,
        artefactMeanIntervalS: 300,
        artefactMinMmHg: 5,
        artefactMaxMmHg: 40,
        artefactMinS: 1,
        artefactMaxS: 20,
        postureMeanIntervalS: 3 * 3600,
        postureMaxMmHg: 15,
        respirationMmHg: 1,
        respirationPeriodS: 4,
        pressure: {
            offsetCounts: 410,
            countsPerMmHg: 2.112,
            offsetErrorCounts: 0,
            gainError: 0,
            noiseCounts: 1.5,
            driftMmHgPerH: 0.5,
        },
        airSensorAtUl: 47,
        airWindowUl: 2.4,
        lineVolumeUl: 1180,
        airMinDetectUl: 2,
        positionUmPerCount: 22,
        positionNoiseCounts: 0.5,
        flowLagS: 2,
        flowNoiseFraction: 0.05,
        flowNoiseFloorUlPerH: 2,
        balanceResolutionMg: 0.1,
        balanceNoiseMg: 0.05,
        evaporationMgPerH: 0,
        batteryMv: 3900,
        maxSubstepMs: 20,
    }
    const merged = { ...base, ...overrides }
    if (overrides.pressure) merged.pressure = { ...base.pressure, ...overrides.pressure }
    return merged
}

interface Artefact {
    startS: number
    durS: number
    ampMmHg: number
}

interface Bubble {
    /** Position of the bubble's leading edge along the line (µL from the syringe outlet). */
    frontUl: number
    volumeUl: number
    deliveredUl: number
}

export class PlantModel implements Plant, Instruments {
    readonly cfg: PlantConfig
    readonly syringe: SyringeSpec
    readonly areaMm2: number
    readonly mmPerStep: number
    private readonly rng: Rng
    private readonly noiseRng: Rng
    /** Draws for sensor-fault noise only, so a run without faults keeps its noise sequence. */
    private readonly faultRng: Rng
    private tS = 0
    /** Pusher (nut) and plunger seal positions, mm from the full mark. */
    private pusherMm = 0
    private plungerMm = 0
    private sliding = false
    private slowS = 1e9
    /** Line pressure (mmHg gauge) at the lumped node the pressure disc sits on. */
    private pMmHg: number
    private delivered = 0
    private displaced = 0
    private airDelivered = 0
    private fired = 0
    private missed = 0
    private occluded = false
    /** Upstream clamp (between the syringe outlet and the pressure disc) closed. */
    private upOccluded = false
    /** Syringe-side pressure (mmHg) while the upstream clamp is closed; equals pMmHg otherwise. */
    private pSyrMmHg = 0
    private engaged = true
    private door = false
    private stalled = false
    private battery: number
    private sensorFault: "none" | "disconnected" | "stuck" | "shorted" = "none"
    private stuckCounts = 0
    /** Wiring faults of every sensor (see setSensorFault); the pressure entry mirrors sensorFault. */
    private faults: Record<SensorName, { mode: SensorFaultMode; level: number; stuck: PlantSensorReadings | null }> = {
        pressure: { mode: "none", level: 0, stuck: null },
        air: { mode: "none", level: 0, stuck: null },
        door: { mode: "none", level: 0, stuck: null },
        plunger: { mode: "none", level: 0, stuck: null },
        position: { mode: "none", level: 0, stuck: null },
        battery: { mode: "none", level: 0, stuck: null },
    }
    private lastReadings: PlantSensorReadings | null = null
    private lastCounts = 0
    private bubbles: Bubble[] = []
    private artefacts: Artefact[] = []
    private nextArtefactS: number
    private postureMmHg = 0
    private postureTarget = 0
    private nextPostureS: number
    private flowLagged = 0
    private lastFlow = 0

    constructor(cfg: PlantConfig) {
        this.cfg = cfg
        const s = findSyringe(cfg.syringeId)
        if (!s) throw new Error("unknown syringe " + cfg.syringeId)
        this.syringe = s
        const d = s.innerDiameterUm / 1000
        this.areaMm2 = (Math.PI * d * d) / 4
        this.mmPerStep = 1 / microstepsPerMm(cfg.mechanics)
        this.rng = new Rng(cfg.seed)
        this.noiseRng = new Rng(cfg.seed * 7919 + 17)
        this.faultRng = new Rng(cfg.seed * 104729 + 3)
        this.pMmHg = cfg.venousMmHg
        this.battery = cfg.batteryMv
        this.nextArtefactS = cfg.artefactMeanIntervalS > 0 ? this.rng.exponential(cfg.artefactMeanIntervalS) : Infinity
        this.nextPostureS = cfg.postureMeanIntervalS > 0 ? this.rng.exponential(cfg.postureMeanIntervalS) : Infinity
        this.lastCounts = this.countsFor(this.pMmHg)
    }

    get complianceUlPerMmHg(): number {
        return this.cfg.syringeComplianceUlPerMmHg + this.cfg.lineComplianceUlPerMmHg
    }

    get resistance(): number {
        return this.cfg.lineResistance + this.cfg.filterResistance + this.cfg.catheterResistance
    }

    /** Patient-side pressure now: venous + posture offset + breathing + movement artefacts. */
    patientMmHg(): number {
        const c = this.cfg
        let p = c.venousMmHg + this.postureMmHg
        if (c.respirationPeriodS > 0) p += c.respirationMmHg * Math.sin((2 * Math.PI * this.tS) / c.respirationPeriodS)
        for (const a of this.artefacts) {
            const x = (this.tS - a.startS) / a.durS
            // Raised-cosine pulse: rises over the first half, falls over the second.
            if (x >= 0 && x <= 1) p += a.ampMmHg * 0.5 * (1 - Math.cos(2 * Math.PI * x))
        }
        return p
    }

    advance(dtMs: number, drive: PlantDrive): void {
        if (!(dtMs > 0)) return
        const n = Math.max(1, Math.ceil(dtMs / this.cfg.maxSubstepMs))
        const steps = drive.motorEnabled ? Math.trunc(drive.steps) : 0
        if (drive.motorEnabled) this.fired += steps
        // Spread the tick's steps evenly over the substeps, as the pulse engine does.
        let given = 0
        for (let i = 0; i < n; i++) {
            const want = Math.trunc((steps * (i + 1)) / n) - given
            given += want
            this.substep(dtMs / n / 1000, want)
        }
    }

    private substep(dt: number, steps: number) {
        const c = this.cfg
        this.tS += dt
        this.updatePatient()
        // ---- motor and lead screw: steps are lost if stalled or the load exceeds pull-out.
        if (steps !== 0) {
            const rate = Math.abs(steps) / dt
            const pullOut = c.pullOutForceN * Math.max(0, 1 - rate / c.maxStepRate)
            const load = Math.abs(this.springForce())
            if (this.stalled || load > pullOut) this.missed += Math.abs(steps)
            else this.pusherMm += steps * this.mmPerStep
        }
        // ---- plunger seal: quasi-static stick-slip against the pressure and the drive spring.
        const alphaA = N_PER_MM2_PER_MMHG * this.areaMm2
        // With the upstream clamp closed the plunger works against the syringe alone (its own
        // compliance and pressure); the line beyond the clamp drains on its own.
        const up = this.upOccluded
        const C = up ? this.cfg.syringeComplianceUlPerMmHg : this.complianceUlPerMmHg
        const pPlunger = up ? this.pSyrMmHg : this.pMmHg
        const net = this.springForce() - alphaA * pPlunger
        const absNet = Math.abs(net)
        let dx = 0
        if (this.sliding || absNet > c.staticFrictionN) {
            const sign = net > 0 ? 1 : -1
            if (absNet > c.kineticFrictionN) {
                const k = this.engaged ? c.driveStiffnessNPerMm : 0
                dx = (net - sign * c.kineticFrictionN) / (k + (alphaA * this.areaMm2) / C)
            }
        }
        // The plunger cannot be pulled past the full mark or pushed past the empty mark.
        const travelMm = this.syringe.plungerTravelUm / 1000
        if (this.plungerMm + dx > travelMm) dx = travelMm - this.plungerMm
        if (this.plungerMm + dx < 0) dx = -this.plungerMm
        // The seal sticks again only after dwelling below the Stribeck speed (a pause between
        // two microsteps at 25 mL/h is too short to re-form the static contact).
        if (Math.abs(dx) / dt > c.stickSpeedMmPerS) this.slowS = 0
        else this.slowS += dt
        this.sliding = this.slowS < c.stickDwellS
        this.plungerMm += dx
        const dV = dx * this.areaMm2
        this.displaced += dV
        if (up) {
            this.pSyrMmHg += dV / C // nothing passes the clamp: bubbles stay in the syringe outlet
        } else {
            this.pMmHg += dV / C
            this.moveBubbles(dV)
        }
        // ---- line outflow through R to the patient (exact exponential of the RC node).
        const Cline = up ? this.cfg.lineComplianceUlPerMmHg : C
        const before = this.pMmHg
        if (!this.occluded) {
            const pp = this.patientMmHg()
            this.pMmHg = pp + (this.pMmHg - pp) * Math.exp(-dt / (this.resistance * Cline))
        }
        const out = Cline * (before - this.pMmHg)
        this.delivered += out
        this.deliverAir(out)
        // ---- instruments
        const flowUlPerH = (out / dt) * 3600
        this.lastFlow = flowUlPerH
        this.flowLagged += (flowUlPerH - this.flowLagged) * (1 - Math.exp(-dt / c.flowLagS))
    }

    /** Force the drive train pushes the plunger with (N, + = towards the patient). */
    private springForce(): number {
        if (!this.engaged) return 0
        return this.cfg.driveStiffnessNPerMm * (this.pusherMm - this.plungerMm)
    }

    private updatePatient() {
        const c = this.cfg
        while (this.tS >= this.nextArtefactS) {
            const amp = this.rng.uniform(c.artefactMinMmHg, c.artefactMaxMmHg) * (this.rng.next() < 0.2 ? -0.5 : 1)
            this.artefacts.push({ startS: this.nextArtefactS, durS: this.rng.uniform(c.artefactMinS, c.artefactMaxS), ampMmHg: amp })
            this.nextArtefactS += this.rng.exponential(c.artefactMeanIntervalS)
        }
        this.artefacts = this.artefacts.filter(a => this.tS <= a.startS + a.durS)
        while (this.tS >= this.nextPostureS) {
            this.postureTarget = this.rng.uniform(-c.postureMaxMmHg, c.postureMaxMmHg)
            this.nextPostureS += this.rng.exponential(c.postureMeanIntervalS)
        }
        // Posture changes take a few seconds (bed moving).
        const d = this.postureTarget - this.postureMmHg
        const maxStep = 3 * 0.02
        this.postureMmHg += Math.abs(d) < maxStep ? d : Math.sign(d) * maxStep
    }

    private moveBubbles(dV: number) {
        if (dV <= 0) return
        for (const b of this.bubbles) b.frontUl += dV
    }

    private deliverAir(out: number) {
        for (const b of this.bubbles) {
            const tail = b.frontUl - b.volumeUl
            const past = Math.min(b.volumeUl, Math.max(0, b.frontUl - this.cfg.lineVolumeUl))
            if (past > b.deliveredUl) {
                this.airDelivered += past - b.deliveredUl
                b.deliveredUl = past
            }
            void tail
        }
        void out
        this.bubbles = this.bubbles.filter(b => b.frontUl - b.volumeUl < this.cfg.lineVolumeUl)
    }

    private countsFor(p: number): number {
        const s = this.cfg.pressure
        const drift = (s.driftMmHgPerH * this.tS) / 3600
        const v = s.offsetCounts + s.offsetErrorCounts + s.countsPerMmHg * (1 + s.gainError) * (p + drift) + s.noiseCounts * this.noiseRng.normal()
        return Math.max(0, Math.min(4095, Math.round(v)))
    }

    sensors(): PlantSensorReadings {
        let counts: number
        switch (this.sensorFault) {
            case "disconnected":
                counts = Math.max(0, Math.round(2 + this.noiseRng.normal())) // pull-down resistor
                break
            case "shorted":
                counts = 4095
                break
            case "stuck":
                counts = this.stuckCounts
                break
            default:
                counts = this.countsFor(this.pMmHg)
        }
        this.lastCounts = counts
        let air = false
        const lo = this.cfg.airSensorAtUl
        const hi = lo + this.cfg.airWindowUl
        for (const b of this.bubbles) {
            if (b.volumeUl < this.cfg.airMinDetectUl) continue
            if (b.frontUl > lo && b.frontUl - b.volumeUl < hi) air = true
        }
        const posCounts = Math.round((this.pusherMm * 1000) / this.cfg.positionUmPerCount + this.cfg.positionNoiseCounts * this.noiseRng.normal())
        const r: PlantSensorReadings = {
            pressureAdc: counts,
            airInLine: air,
            doorOpen: this.door,
            plungerEngaged: this.engaged,
            batteryMv: this.battery,
            firedSteps: this.fired,
            plungerPositionUm: posCounts * this.cfg.positionUmPerCount,
        }
        this.applyWiringFaults(r)
        this.lastReadings = { ...r }
        return r
    }

    /** Each sensor's wiring as the reference board has it (ASSUMPTION until the schematic is
     *  fixed; docs/hil-rig.md "Sensor wiring faults"):
     *   pressure  amplified transducer -> 12-bit ADC, pull-down: open ~0 counts, short 4095;
     *   position  linear potentiometer wiper -> 12-bit ADC, pull-down: open 0 µm, short full
     *             scale (4095 counts x positionUmPerCount);
     *   battery   2:1 divider -> 12-bit ADC at 3.3 V (full scale 6600 mV): open 0 mV, short 6600 mV;
     *   air       ultrasonic detector, open-drain output, pull-up = "air": open reads air, short
     *             (to ground) reads liquid;
     *   door      hall switch, open-drain, pull-up = "open": open reads open, short reads closed;
     *   plunger   flange microswitch to ground, pull-up = "not engaged": open reads free, short
     *             reads engaged. */
    private applyWiringFaults(r: PlantSensorReadings) {
        const f = this.faults
        const analog = (name: SensorName, v: number, fullScale: number, openV: number): number => {
            const x = f[name]
            if (x.mode === "open") return openV
            if (x.mode === "short") return fullScale
            if (x.mode === "stuck") return x.stuck ? this.stuckAnalog(name, x.stuck) : v
            if (x.mode === "noisy") return Math.max(0, Math.min(fullScale, v + x.level * fullScale * this.faultRng.normal()))
            return v
        }
        const digital = (name: SensorName, v: boolean, openV: boolean): boolean => {
            const x = f[name]
            if (x.mode === "open") return openV
            if (x.mode === "short") return !openV
            if (x.mode === "stuck") return x.stuck ? this.stuckDigital(name, x.stuck) : v
            if (x.mode === "noisy") return this.faultRng.next() < x.level ? !v : v
            return v
        }
        if (f.pressure.mode === "noisy") r.pressureAdc = Math.round(analog("pressure", r.pressureAdc, 4095, 0))
        const posFullUm = 4095 * this.cfg.positionUmPerCount
        r.plungerPositionUm = analog("position", r.plungerPositionUm, posFullUm, 0)
        if (f.position.mode === "noisy") r.plungerPositionUm = Math.round(r.plungerPositionUm / this.cfg.positionUmPerCount) * this.cfg.positionUmPerCount
        r.batteryMv = Math.round(analog("battery", r.batteryMv, 6600, 0))
        r.airInLine = digital("air", r.airInLine, true)
        r.doorOpen = digital("door", r.doorOpen, true)
        r.plungerEngaged = digital("plunger", r.plungerEngaged, false)
    }

    private stuckAnalog(name: SensorName, s: PlantSensorReadings): number {
        return name === "position" ? s.plungerPositionUm : name === "battery" ? s.batteryMv : s.pressureAdc
    }

    private stuckDigital(name: SensorName, s: PlantSensorReadings): boolean {
        return name === "air" ? s.airInLine : name === "door" ? s.doorOpen : s.plungerEngaged
    }

    truth(): PlantTruth {
        return {
            timeMs: Math.round(this.tS * 1000),
            deliveredUl: this.delivered,
            displacedUl: this.displaced,
            linePressureMmHg: this.pMmHg,
            airDeliveredUl: this.airDelivered,
        }
    }

    /** Microsteps the motor was driven (with the stage enabled), for tests and the rig. */
    motorSteps(): number {
        return this.fired
    }

    /** Extra ground truth for tests (additive to the contract). */
    missedSteps(): number {
        return this.missed
    }

    pusherPositionUm(): number {
        return this.pusherMm * 1000
    }

    flowMeterUlPerH(): number {
        const c = this.cfg
        const sd = c.flowNoiseFraction * Math.abs(this.flowLagged) + c.flowNoiseFloorUlPerH
        return this.flowLagged + sd * this.noiseRng.normal()
    }

    balanceMg(): number {
        const c = this.cfg
        const m = this.delivered - (c.evaporationMgPerH * this.tS) / 3600 + c.balanceNoiseMg * this.noiseRng.normal()
        return Math.round(m / c.balanceResolutionMg) * c.balanceResolutionMg
    }

    setDownstreamOcclusion(closed: boolean): void {
        this.occluded = closed
    }

    /** Upstream occlusion: a clamp between the syringe outlet and the pressure disc (a closed
     *  stopcock at the syringe, a clamp left shut on the syringe's own extension). The syringe
     *  and the line become two nodes: the plunger compresses the syringe alone (its compliance),
     *  while the disc sees the line drain to the patient's venous pressure. Opening the clamp
     *  joins the nodes again (equal pressure at once: the segment between them is short and
     *  wide), so the volume stored in the syringe leaves as a bolus. */
    setUpstreamOcclusion(closed: boolean): void {
        if (closed === this.upOccluded) return
        if (closed) {
            this.pSyrMmHg = this.pMmHg
        } else {
            const Cs = this.cfg.syringeComplianceUlPerMmHg
            const Cl = this.cfg.lineComplianceUlPerMmHg
            const p = (Cs * this.pSyrMmHg + Cl * this.pMmHg) / (Cs + Cl)
            this.moveBubbles(Cs * (this.pSyrMmHg - p))
            this.pMmHg = p
        }
        this.upOccluded = closed
    }

    /** Syringe-side pressure (mmHg): what a plunger force sensor would see (ground truth). */
    syringePressureMmHg(): number {
        return this.upOccluded ? this.pSyrMmHg : this.pMmHg
    }

    setPlungerEngaged(engaged: boolean): void {
        this.engaged = engaged
        // Re-engaging clamps the flange wherever the plunger is: no stored spring force.
        if (engaged) this.pusherMm = this.plungerMm
    }

    /** A fresh full syringe on the same line (additive to the contract): pusher and plunger at
     *  the full mark, no stored drive force. */
    resetSyringe(): void {
        this.pusherMm = 0
        this.plungerMm = 0
        this.sliding = false
        this.slowS = 1e9
    }

    setDoorOpen(open: boolean): void {
        this.door = open
    }

    injectBubble(volumeUl: number): void {
        if (!(volumeUl > 0)) throw new Error("bubble volume must be > 0 µL")
        this.bubbles.push({ frontUl: 0, volumeUl, deliveredUl: 0 })
    }

    setPressureSensorFault(kind: "none" | "disconnected" | "stuck" | "shorted"): void {
        if (kind === "stuck") this.stuckCounts = this.lastCounts
        this.sensorFault = kind
    }

    setSensorFault(sensor: SensorName, mode: SensorFaultMode, level = 0.1): void {
        if (!(level >= 0 && level <= 1)) throw new Error("sensor fault level must be 0..1, got " + level)
        if (sensor === "pressure" && mode !== "noisy") {
            // The pressure transducer's open/short/stuck predate this table: one model for each.
            this.setPressureSensorFault(mode === "open" ? "disconnected" : mode === "short" ? "shorted" : mode)
        } else if (sensor === "pressure") {
            this.setPressureSensorFault("none")
        }
        const stuck = mode === "stuck" ? (this.lastReadings ? { ...this.lastReadings } : { ...this.sensors() }) : null
        this.faults[sensor] = { mode: mode, level: level, stuck: stuck }
    }

    setMotorStalled(stalled: boolean): void {
        this.stalled = stalled
    }

    setBatteryMv(mv: number): void {
        this.battery = mv
    }

    /** Current flow to the patient (µL/h), noise-free (ground truth). */
    trueFlowUlPerH(): number {
        return this.lastFlow
    }
}
