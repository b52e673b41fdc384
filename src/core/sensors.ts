// What the firmware's sensors report in one control tick, in the units the board reads them
// (raw ADC counts, switch levels, counters). Field names match the plant model's
// PlantSensorReadings so the HIL rig and the host harness pass readings straight through.

export interface SensorSnapshot {
    /** Line-pressure transducer, 12-bit ADC counts (0..4095). */
    pressureAdc: number
    /** Air-in-line detector: true while air is in the sensor window. */
    airInLine: boolean
    doorOpen: boolean
    /** Plunger flange clamp switch: true while the plunger is held by the pusher. */
    plungerEngaged: boolean
    batteryMv: number
    /** Signed microsteps the pulse engine reports fired since power-up. */
    firedSteps: number
    /** Pusher position from the linear position sensor, µm from the syringe's full mark. */
    plungerPositionUm: number
}
