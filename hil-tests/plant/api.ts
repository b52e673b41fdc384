import { SensorSnapshot } from "../../src/core/sensors"

// Contract of the physical plant model (motor, lead screw, syringe, line, patient, bubbles,
// sensors, flow meter, balance). Plain TypeScript, host only. The implementation lives next to
// this file; the HIL runner (hil-tests/), the safety benchmarks and the bench tool (--sim) all
// drive the plant through this interface so they measure the same physics.

/** What the firmware's drive did during one plant step. */
export interface PlantDrive {
    /** Signed microsteps the pulse engine fired in this step (+ = towards the patient). */
    steps: number
    motorEnabled: boolean
}

/** What the firmware's sensors see, in the units the board reads them: exactly the firmware's
 *  own SensorSnapshot, so the rig and the host harness pass readings straight through. Note that
 *  `firedSteps` does NOT subtract missed steps under load: the engine cannot see them. */
export type PlantSensorReadings = SensorSnapshot

/** Ground truth that no sensor sees: what tests compare against. */
export interface PlantTruth {
    timeMs: number
    /** Volume that reached the patient (µL, float). */
    deliveredUl: number
    /** Volume displaced by the plunger (µL, float). */
    displacedUl: number
    linePressureMmHg: number
    airDeliveredUl: number
}

export interface Instruments {
    /** Flow meter reading downstream (µL/h), with the instrument's own noise and lag. */
    flowMeterUlPerH(): number
    /** Balance reading (mg), with noise, resolution and optional evaporation. */
    balanceMg(): number
}

/** Sensors whose wiring can fail (the plant's sensor faults, see setSensorFault). */
export type SensorName = "pressure" | "air" | "door" | "plunger" | "position" | "battery"
export const SENSOR_NAMES: SensorName[] = ["pressure", "air", "door", "plunger", "position", "battery"]

/** Wiring faults: open = the signal wire broken (the input's pull resistor sets the level);
 *  short = the signal shorted to the other rail; stuck = the reading frozen at its last value;
 *  noisy = EMI / a dirty contact (analog: white noise, `level` x full scale RMS; switch: each
 *  reading flipped with probability `level`). */
export type SensorFaultMode = "none" | "open" | "short" | "stuck" | "noisy"
export const SENSOR_FAULT_MODES: SensorFaultMode[] = ["none", "open", "short", "stuck", "noisy"]

export interface Plant extends Instruments {
    /** Advances the physics by `dtMs` with the drive's action during that interval. */
    advance(dtMs: number, drive: PlantDrive): void
    sensors(): PlantSensorReadings
    truth(): PlantTruth
    /** Microsteps the motor was driven with the stage enabled (the rig's view of the shaft). */
    motorSteps(): number
    // Disturbances a scenario can apply at any time.
    setDownstreamOcclusion(closed: boolean): void
    setPlungerEngaged(engaged: boolean): void
    setDoorOpen(open: boolean): void
    injectBubble(volumeUl: number): void
    setPressureSensorFault(kind: "none" | "disconnected" | "stuck" | "shorted"): void
    /** A wiring fault on one sensor (`level` for "noisy", default 0.1). */
    setSensorFault(sensor: SensorName, mode: SensorFaultMode, level?: number): void
    /** Upstream occlusion: clamp between the syringe outlet and the pressure disc. */
    setUpstreamOcclusion(closed: boolean): void
    setMotorStalled(stalled: boolean): void
    setBatteryMv(mv: number): void
}
