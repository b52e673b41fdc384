// Simulator adapter: an in-VM pulse engine that counts what it is asked to fire. It is the
// simplest faithful stand-in; the HIL rig replaces it with a plant model on the Jacdac bus.

import { Indicators, PumpHardware, StepEngine } from "./types"

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

class SimIndicators implements Indicators {
    async setRunLed(on: boolean) {}
    async setAlarmLed(on: boolean) {}
    async beep(frequencyHz: number, durationMs: number) {
        console.log("BEEP " + frequencyHz + "Hz " + durationMs + "ms")
    }
}

export function createSimHardware(): PumpHardware {
    return { name: "simulator", stepper: new SimStepEngine(), indicators: new SimIndicators() }
}
