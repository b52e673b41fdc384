import { SensorSnapshot } from "../core/sensors"

// Hardware adapter interfaces. The control loop talks only to these; the board adapter
// implements them with pins from boards/*.board.json and the simulator adapter with in-VM
// fakes, because ds.gpio throws and board pins are undefined in the simulator.

/** Fires microsteps with even spacing over one control tick. TypeScript cannot time pulses
 *  (<10 ms), so this is a command to a pulse engine (see docs/architecture.md). */
export interface StepEngine {
    enable(on: boolean): Promise<void>
    /** Queue `steps` microsteps to be spread evenly over `windowMs`. */
    queue(steps: number, forward: boolean, windowMs: number): Promise<void>
    /** Microsteps the engine reports it has actually fired since power-up. */
    firedCount(): Promise<number>
}

export interface Indicators {
    setRunLed(on: boolean): Promise<void>
    setAlarmLed(on: boolean): Promise<void>
    beep(frequencyHz: number, durationMs: number): Promise<void>
}

/** All safety sensors, read once per control tick. */
export interface Sensors {
    read(): Promise<SensorSnapshot>
}

/** Driver current feedback for the power-on self-test; NaN when the board has no sense resistor. */
export interface IndicatorFeedback {
    buzzerCurrentMa(): Promise<number>
    alarmLedCurrentMa(): Promise<number>
}

export interface PumpHardware {
    name: string
    stepper: StepEngine
    indicators: Indicators
    /** Required: every adapter feeds the safety monitor; there is no tick without it. */
    sensors: Sensors
    feedback?: IndicatorFeedback
}
