// Host closed loop: the REAL firmware core (PumpController + SafetyMonitor, src/core) driven on a
// virtual clock at the firmware's 20 ms tick against the plant model, with scenario
// disturbances applied at given times. Hours run in seconds; the HIL rig reuses this as its
// faster-than-real-time path. Each tick runs the firmware's own tick function (src/core/tick.ts,
// also called by src/firmware/control.ts) on the plant's sensors and fires its steps into the plant.

import { EventLog } from "../../src/core/eventLog"
import { AlarmCode } from "../../src/core/safety/alarmCodes"
import { InfusionProgram } from "../../src/core/program"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { SafetyConfig, SAFETY_DEFAULTS, SafetyMonitor } from "../../src/core/safety/monitor"
import { runControlTick, TickActions } from "../../src/core/tick"
import { Plant } from "../plant/api"

export interface ScenarioEvent {
    atMs: number
    label: string
    apply: (plant: Plant, loop: ClosedLoop) => void
}

export interface ClosedLoopOptions {
    plant: Plant
    program?: InfusionProgram
    safety?: Partial<SafetyConfig>
    /** Start the infusion at t=0 (default true when a program is given). */
    start?: boolean
    logCapacity?: number
    /** Extra delay added to the tick at the given times (to provoke overrun/watchdog). */
    tickMs?: number
}

export class ClosedLoop {
    readonly plant: Plant
    readonly log: EventLog
    readonly pump: PumpController
    readonly monitor: SafetyMonitor
    nowMs = 0
    /** Forward steps the pump asked for, and reverse steps the back-off fired. */
    forwardSteps = 0
    reverseSteps = 0
    /** What the core tick decided in the last tick (null before the first). */
    lastTick: TickActions = null
    private events: ScenarioEvent[] = []
    private readonly tickMs: number
    private extraDelayMs = 0

    constructor(o: ClosedLoopOptions) {
        this.plant = o.plant
        this.tickMs = o.tickMs ?? CONTROL_PERIOD_MS
        this.log = new EventLog(o.logCapacity ?? 4000)
        this.pump = new PumpController(REFERENCE_PUMP_CONFIG, this.log)
        this.monitor = new SafetyMonitor(this.pump, this.log, { ...SAFETY_DEFAULTS, ...(o.safety ?? {}) })
        if (o.program) {
            const r = this.pump.loadProgram(0, o.program)
            if (!r.ok) throw new Error("program refused: " + r.reason)
            if (o.start ?? true) this.pump.start(0)
        }
    }

    /** Schedules disturbances (any order). */
    schedule(events: ScenarioEvent[]) {
        this.events = this.events.concat(events).sort((a, b) => a.atMs - b.atMs)
    }

    /** Makes the next tick arrive `ms` late (a stalled loop). */
    delayNextTick(ms: number) {
        this.extraDelayMs = ms
    }

    /** One control tick at `nowMs`, then the plant advances to the next tick. */
    tick() {
        while (this.events.length > 0 && this.events[0].atMs <= this.nowMs) {
            const e = this.events.shift()!
            this.log.record(this.nowMs, "SCENARIO", e.label)
            e.apply(this.plant, this)
        }
        const t = runControlTick(this.nowMs, this.plant.sensors(), this.monitor, this.pump)
        this.lastTick = t
        this.forwardSteps += t.forwardSteps
        this.reverseSteps += t.reverseSteps
        // Signed steps for the plant; at most one of the two is non-zero (see src/core/tick.ts).
        const steps = t.forwardSteps - t.reverseSteps
        const dt = this.tickMs + this.extraDelayMs
        this.extraDelayMs = 0
        this.plant.advance(dt, { steps, motorEnabled: t.motorOn })
        this.nowMs += dt
    }

    /** Runs until `untilMs` or until `stop()` returns true (checked after each tick). */
    runUntil(untilMs: number, stop?: (loop: ClosedLoop) => boolean): boolean {
        while (this.nowMs < untilMs) {
            this.tick()
            if (stop && stop(this)) return true
        }
        return false
    }

    runFor(ms: number, stop?: (loop: ClosedLoop) => boolean): boolean {
        return this.runUntil(this.nowMs + ms, stop)
    }

    alarmLatched(code: AlarmCode): boolean {
        return this.monitor.alarms.isLatched(code)
    }
}

/** A standard program: BD Plastipak 50 mL at `rateUlPerH`, VTBI = 45 mL, no KVO. */
export function programAt(rateUlPerH: number, vtbiUl = 45000): InfusionProgram {
    return { syringeId: "bd-plastipak-50", rateUlPerH, vtbiUl, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }
}
