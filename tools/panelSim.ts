// Host simulation of the front panel: the real UI model, pump controller, safety monitor and
// drug library on a virtual clock; simulated sensors follow the fired steps like src/hal/sim.ts.
// Used by the timelines (test/ui) and the terminal panel (tools/panel.ts). Keys are pressed with
// a gap longer than the view guard, as a person would.

import { compileFile } from "./druglib/compile"
import { EventLog } from "../src/core/eventLog"
import { DrugLibrary } from "../src/core/druglib/model"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../src/core/pump"
import { SAFETY_DEFAULTS, SafetyMonitor } from "../src/core/safety/monitor"
import { occlusionLimitMmHg } from "../src/core/safety/occlusion"
import { runControlTick } from "../src/core/tick"
import { applyUiCommand } from "../src/core/ui/apply"
import { initialUiState, PanelStatus, Screen, UI_TICK_MS, UiCommand, UiKey, UiState, uiStep } from "../src/core/ui/panel"

export function sampleLibrary(): DrugLibrary {
    const r = compileFile(new URL("../docs/sample-drug-library.json", import.meta.url).pathname)
    if (r.errors.length > 0) throw new Error(JSON.stringify(r.errors))
    return r.library!
}

export class PanelSim {
    log = new EventLog(2000)
    pump = new PumpController(REFERENCE_PUMP_CONFIG, this.log)
    monitor = new SafetyMonitor(this.pump, this.log, SAFETY_DEFAULTS)
    ui: UiState = initialUiState()
    screen: Screen = { lines: [], inverted: false }
    screens: Screen[] = []
    commands: UiCommand[] = []
    t = 0
    /** When the panel's own timer fires next (UI_TICK_MS apart, independent of the control period). */
    nextUiMs = UI_TICK_MS
    fired = 0
    dither = 0
    door = false
    plunger = true
    batteryMv = 3900
    selfTestOk = true
    lib: DrugLibrary | null

    constructor(lib: DrugLibrary | null) {
        this.lib = lib
        this.step("tick", "start")
    }

    status(): PanelStatus {
        const a = this.monitor.annunciation(this.t)
        const adc = 425
        return {
            pump: this.pump.status(),
            selfTestOk: this.selfTestOk,
            batteryMv: this.batteryMv,
            pressureMmHg: (adc - SAFETY_DEFAULTS.pressureCal.offsetCounts) / SAFETY_DEFAULTS.pressureCal.countsPerMmHg,
            pressureLimitMmHg: occlusionLimitMmHg(SAFETY_DEFAULTS.occlusion.level),
            plungerEngaged: this.plunger,
            alarmCode: a.code,
            alarmPriority: a.priority,
            audioPaused: a.audioPaused,
            library: this.lib,
            history: this.log.all().slice(-20).reverse().map(e => e.kind + " " + e.detail),
        }
    }

    step(kind: string, key: UiKey) {
        const out = uiStep(this.ui, { kind, key, nowMs: this.t }, this.status())
        this.ui = out.state
        this.screen = out.screen
        this.screens.push(out.screen)
        for (const r of out.log) this.log.record(this.t, r.kind, r.detail)
        if (out.command) {
            this.commands.push(out.command)
            applyUiCommand(this.pump, this.monitor, out.command, this.t)
        }
    }

    /** Time passes: control ticks (the firmware's one tick, src/core/tick.ts) and the panel's own UI timer. */
    advance(ms: number) {
        const end = this.t + ms
        while (this.t < end) {
            this.t += CONTROL_PERIOD_MS
            this.dither = 1 - this.dither
            const act = runControlTick(this.t, {
                pressureAdc: 425 + this.dither, airInLine: false, doorOpen: this.door, plungerEngaged: this.plunger,
                batteryMv: this.batteryMv, firedSteps: this.fired, plungerPositionUm: Math.floor((this.fired * 1000) / 3200),
            }, this.monitor, this.pump)
            this.fired += act.forwardSteps - act.reverseSteps
            while (this.nextUiMs <= this.t) {
                this.step("tick", "start")
                this.nextUiMs += UI_TICK_MS
            }
        }
    }

    press(key: UiKey, times = 1) {
        for (let i = 0; i < times; i++) {
            this.advance(400)
            this.step("press", key)
            this.advance(100)
            this.step("release", key)
        }
        return this
    }

    hold(key: UiKey, ms: number) {
        this.advance(400)
        this.step("press", key)
        this.advance(ms)
        this.step("release", key)
        return this
    }

    text(): string {
        return this.screen.lines.join("\n")
    }

    has(s: string): boolean {
        return this.text().includes(s)
    }
}

