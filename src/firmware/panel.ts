// Front panel on the device: feeds key edges and a 100 ms tick into the pure UI model
// (src/core/ui/panel.ts), writes its log records, carries out its command on the pump and shows
// its screen. It runs on its own timer, never inside the control tick: one full SSD1306 frame is
// ~23 ms of I2C at 400 kHz (1024 bytes x 9 bits), so frames are sent only when the text changes,
// and a screen that changes by itself (the running volume) is redrawn at most once a second:
// <= 1 frame/s (~2 % of the bus) while running, a frame per key press while programming.

import { EventLog } from "../core/eventLog"
import { occlusionLimitMmHg } from "../core/safety/occlusion"
import { applyUiCommand } from "../core/ui/apply"
import { initialUiState, PanelStatus, Screen, UI_KEYS, UiKey, UiState, uiStep } from "../core/ui/panel"
import { PumpFirmware } from "./app"
import { errorText } from "./control"
import { PanelDisplay } from "../hal/types"

export const UI_TICK_MS = 100
/** Minimum time between frames when nothing but a live value changed. */
export const FRAME_MIN_MS = 1000
const HISTORY_LINES = 12

interface KeyEdge {
    key: UiKey
    down: boolean
    atMs: number
}

export class PanelRunner {
    private ui: UiState = initialUiState()
    private readonly queue: KeyEdge[] = []
    private lastText = ""
    private lastInverted = false
    private lastFrameMs = -100000
    private busy = false

    constructor(private readonly fw: PumpFirmware, private readonly display: PanelDisplay) {}

    /** A key edge from a button driver or the rig's keypad; acted on at the next panel turn. */
    key(key: UiKey, down: boolean) {
        this.queue.push({ key: key, down: down, atMs: this.fw.dev.clock.nowMs() })
    }

    /** A key by name from a key source; an unknown name is logged, never guessed. */
    keyNamed(name: string, down: boolean) {
        for (let i = 0; i < UI_KEYS.length; i++) {
            if (UI_KEYS[i] === name) {
                this.key(UI_KEYS[i], down)
                return
            }
        }
        console.log("PANEL unknown key " + name)
    }

    start() {
        // `this` inside an arrow in a method does not work in DeviceScript: bind it by hand.
        const self = this
        this.fw.dev.clock.every(UI_TICK_MS, async () => {
            await self.turnGuarded()
        })
    }

    /** One panel turn; a turn still running when the next is due is skipped. */
    async turnGuarded() {
        if (this.busy) return
        this.busy = true
        try {
            await this.turn(this.fw.dev.clock.nowMs())
        } catch (e) {
            console.log("PANEL error " + errorText(e))
        }
        this.busy = false
    }

    private async turn(nowMs: number) {
        let keyed = false
        while (this.queue.length > 0) {
            const k = this.queue.shift()
            await this.step(k.down ? "press" : "release", k.key, k.atMs)
            keyed = true
        }
        const screen = await this.step("tick", "start", nowMs)
        const text = screen.lines.join("\n")
        const changed = text !== this.lastText || screen.inverted !== this.lastInverted
        const structural = screen.inverted !== this.lastInverted || screen.lines[0] !== this.lastText.split("\n")[0]
        if (changed && (keyed || structural || nowMs - this.lastFrameMs >= FRAME_MIN_MS)) {
            this.lastText = text
            this.lastInverted = screen.inverted
            this.lastFrameMs = nowMs
            await this.display.show(screen.lines, screen.inverted)
        }
    }

    private async status(): Promise<PanelStatus> {
        const fw = this.fw
        const mon = fw.safety.monitor
        const a = mon.annunciation(this.fw.dev.clock.nowMs())
        let batteryMv = NaN
        let pressure = 0
        let plunger = false
        try {
            const s = await fw.hw.sensors.read()
            batteryMv = s.batteryMv
            pressure = (s.pressureAdc - mon.cfg.pressureCal.offsetCounts) / mon.cfg.pressureCal.countsPerMmHg
            plunger = s.plungerEngaged
        } catch (e) {
            // shown as "-- V"; the safety monitor raises the sensor fault
        }
        return {
            pump: fw.pump.status(),
            selfTestOk: fw.selfTestOk,
            batteryMv: batteryMv,
            pressureMmHg: pressure,
            pressureLimitMmHg: occlusionLimitMmHg(mon.cfg.occlusion.level),
            plungerEngaged: plunger,
            alarmCode: a.code,
            alarmPriority: a.priority,
            audioPaused: a.audioPaused,
            library: fw.library.current(),
            history: this.ui.screen === "history" ? historyLines(fw.log) : [],
        }
    }

    private async step(kind: string, key: UiKey, nowMs: number): Promise<Screen> {
        const out = uiStep(this.ui, { kind: kind, key: key, nowMs: nowMs }, await this.status())
        this.ui = out.state
        for (let i = 0; i < out.log.length; i++) this.fw.log.record(nowMs, out.log[i].kind, out.log[i].detail)
        if (out.command) {
            const r = applyUiCommand(this.fw.pump, this.fw.safety.monitor, out.command, nowMs)
            if (r && !r.ok) this.fw.log.record(nowMs, "UI_CMD_REFUSED", out.command.op + ": " + r.reason)
        }
        return out.screen
    }
}

function historyLines(log: EventLog): string[] {
    const all = log.all()
    const out: string[] = []
    for (let i = all.length - 1; i >= 0 && out.length < HISTORY_LINES; i--) out.push(all[i].kind + " " + all[i].detail)
    return out
}
