// Simulator adapter: an in-VM pulse engine that counts what it is asked to fire. It is the
// simplest faithful stand-in; the HIL rig replaces it with a plant model on the Jacdac bus.

import { SensorSnapshot } from "../core/sensors"
import { IndicatorFeedback, Indicators, PumpHardware, Sensors, StepEngine } from "./types"

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class SimStepEngine implements StepEngine {
    private enabled = false
    private fired = 0

    async enable(on: boolean) {
        this.enabled = on
    }

    async queue(steps: number, forward: boolean, windowMs: number) {
        if (!this.enabled) return
        this.fired += forward ? steps : -steps
    }

    async firedCount() {
        return this.fired
    }
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class SimIndicators implements Indicators {
    async setRunLed(on: boolean) {}
    async setAlarmLed(on: boolean) {}
    async beep(frequencyHz: number, durationMs: number) {
        console.log("BEEP " + frequencyHz + "Hz " + durationMs + "ms")
    }
}

/** Simulated sensors: an open line at 7 mmHg venous pressure (410 + 2.112·7 counts) with one
 *  count of dither (a live ADC never repeats exactly), the pusher following the fired steps of
 *  the reference drive (3200 µsteps/mm), door closed, plunger held, battery 3.9 V. Fields are
 *  public so the in-VM tests can inject faults.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class SimSensors implements Sensors {
    pressureAdc = 425
    airInLine = false
    doorOpen = false
    plungerEngaged = true
    batteryMv = 3900
    private readonly engine: StepEngine
    private dither = 0

    constructor(engine: StepEngine) {
        this.engine = engine
    }

    async read(): Promise<SensorSnapshot> {
        const fired = await this.engine.firedCount()
        this.dither = 1 - this.dither
        return {
            pressureAdc: this.pressureAdc + this.dither,
            airInLine: this.airInLine,
            doorOpen: this.doorOpen,
            plungerEngaged: this.plungerEngaged,
            batteryMv: this.batteryMv,
            firedSteps: fired,
            plungerPositionUm: Math.floor((fired * 1000) / 3200),
        }
    }
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class SimFeedback implements IndicatorFeedback {
    async buzzerCurrentMa() {
        return NaN
    }
    async alarmLedCurrentMa() {
        return NaN
    }
}

export function createSimHardware(): PumpHardware {
    const stepper = new SimStepEngine()
    return { name: "simulator", stepper: stepper, indicators: new SimIndicators(), sensors: new SimSensors(stepper), feedback: new SimFeedback() }
}
