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
    setMotorStalled(stalled: boolean): void
    setBatteryMv(mv: number): void
}
