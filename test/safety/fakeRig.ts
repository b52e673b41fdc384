// A minimal rig for monitor-level tests: fake sensor snapshot driven by the pump's own steps,
// on a virtual 20 ms clock, running the firmware's own tick function (src/core/tick.ts).
import { expect } from "vitest"

import { EventLog } from "../../src/core/eventLog"
import { AlarmCode } from "../../src/core/safety/alarmCodes"
import { InfusionProgram } from "../../src/core/program"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { SafetyConfig, SAFETY_DEFAULTS, SafetyMonitor } from "../../src/core/safety/monitor"
import { SensorSnapshot } from "../../src/core/sensors"
import { runControlTick } from "../../src/core/tick"

export class FakeRig {
    log = new EventLog(5000)
    pump = new PumpController(REFERENCE_PUMP_CONFIG, this.log)
    monitor: SafetyMonitor
    t = 0
    snap: SensorSnapshot = {
        pressureAdc: 425,
        airInLine: false,
        doorOpen: false,
        plungerEngaged: true,
        batteryMv: 3900,
        firedSteps: 0,
        plungerPositionUm: 0,
    }
    /** Position of the pusher at fired=0 (µm from the full mark). */
    basePosUm = 0
    stalled = false
    /** Pressure in mmHg the fake sensor reports (plus one count of dither). */
    pressureMmHg = 7
    stalledAtFired = 0
    lastTickSteps = 0
    private dither = 0

    constructor(program?: InfusionProgram, safety: Partial<SafetyConfig> = {}) {
        this.monitor = new SafetyMonitor(this.pump, this.log, { ...SAFETY_DEFAULTS, ...safety })
        if (program) {
            expect(this.pump.loadProgram(0, program).ok).toBe(true)
            expect(this.pump.start(0).ok).toBe(true)
        }
    }

    tick(gapMs = CONTROL_PERIOD_MS) {
        this.dither = 1 - this.dither
        this.snap.pressureAdc = Math.round(410 + 2.112 * this.pressureMmHg) + this.dither
        const firedBefore = this.snap.firedSteps
        if (!this.stalled) this.snap.plungerPositionUm = this.basePosUm + Math.floor((firedBefore * 1000) / 3200)
        const a = runControlTick(this.t, { ...this.snap }, this.monitor, this.pump)
        const steps = a.forwardSteps - a.reverseSteps
        this.lastTickSteps = steps
        this.snap.firedSteps += steps
        this.t += gapMs
    }

    run(ms: number, stop?: () => boolean): boolean {
        const end = this.t + ms
        while (this.t < end) {
            this.tick()
            if (stop && stop()) return true
        }
        return false
    }

    latched(code: AlarmCode) {
        return this.monitor.alarms.isLatched(code)
    }
}

export function program(rateUlPerH: number, vtbiUl = 45000, kvo = 0): InfusionProgram {
    return { syringeId: "bd-plastipak-50", rateUlPerH, vtbiUl, kvoRateUlPerH: kvo, bolusUl: 0, bolusDurationS: 0 }
}
