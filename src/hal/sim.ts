// Simulator adapter: the shipping TMC5160 driver and step engine against the register-level
// model (hal/tmc5160Model.ts) on the VM clock, so the simulator runs the exact motion code a
// board runs. The pusher position follows the model's shaft, not the commanded steps.

import { SensorSnapshot } from "../core/sensors"
import { OutputLine, REFERENCE_TMC_CONFIG, Tmc5160 } from "./tmc5160"
import { Tmc5160Model } from "./tmc5160Model"
import { TmcStepEngine } from "./tmcStepEngine"
import { IndicatorFeedback, Indicators, PumpHardware, Sensors, StepEngine } from "./types"

/**
 * The enable line of the simulated board: straight into the model's DRV_ENN input.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class ModelEnableLine implements OutputLine {
    private readonly model: Tmc5160Model
    constructor(model: Tmc5160Model) {
        this.model = model
    }
    write(high: boolean) {
        this.model.setStageEnabled(high)
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
 *  count of dither (a live ADC never repeats exactly), the pusher following the model's shaft
 *  on the reference drive (3200 µsteps/mm), door closed, plunger held, battery 3.9 V. Fields are
 *  public so the in-VM tests can inject faults; the door is also the model's enable interlock.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class SimSensors implements Sensors {
    pressureAdc = 425
    airInLine = false
    doorOpen = false
    plungerEngaged = true
    batteryMv = 3900
    private readonly engine: StepEngine
    private readonly model: Tmc5160Model
    private dither = 0

    constructor(engine: StepEngine, model: Tmc5160Model) {
        this.engine = engine
        this.model = model
    }

    async read(): Promise<SensorSnapshot> {
        this.model.setDoorClosed(!this.doorOpen)
        const fired = await this.engine.firedCount()
        const shaft = this.model.shaft()
        this.dither = 1 - this.dither
        return {
            pressureAdc: this.pressureAdc + this.dither,
            airInLine: this.airInLine,
            doorOpen: this.doorOpen,
            plungerEngaged: this.plungerEngaged,
            batteryMv: this.batteryMv,
            firedSteps: fired,
            plungerPositionUm: Math.floor((shaft * 1000) / 3200),
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

/** `nowMs` drives the controller model's ramp: the injected device clock (Clock.nowMs), a
 *  virtual clock in tests that step the control loop faster than real time. */
export function createSimHardware(nowMs: () => number): PumpHardware {
    const model = new Tmc5160Model(nowMs)
    const stepper = new TmcStepEngine(new Tmc5160(model, REFERENCE_TMC_CONFIG), new ModelEnableLine(model))
    return { name: "simulator", stepper: stepper, indicators: new SimIndicators(), sensors: new SimSensors(stepper, model), feedback: new SimFeedback() }
}
