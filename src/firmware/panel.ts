// Front panel on the device: feeds key edges and a 100 ms tick into the pure UI model
// (src/core/ui/panel.ts), writes its log records, carries out its command on the pump and shows
// its screen. It runs on its own timer, never inside the control tick. Frames are sent only
// when the text changes, and a screen that changes by itself (the running volume, time left) at
// most once a second; the OLED writer then sends only the changed rows (about 3 ms each on a
// 400 kHz bus, 24 ms for all eight): <= 1 frame/s while running, a frame per key while programming.
//
// Plain functions over module variables rather than a class: a device has one panel, and every
// method would cost a 16-byte descriptor plus prototype set-up in the 64 KB code budget.

import { EventLog } from "../core/eventLog"
import { occlusionLimitMmHg } from "../core/safety/occlusion"
import { applyUiCommand } from "../core/ui/apply"
import { initialUiState, PanelStatus, Screen, UI_KEYS, UI_TICK_MS, UiKey, uiStep } from "../core/ui/panel"
import { PumpFirmware } from "./app"
import { errorText } from "./control"
import { PanelDisplay, PanelKeySource } from "../hal/types"

/** Minimum time between frames when nothing but a live value changed. */
export const FRAME_MIN_MS = 1000
const HISTORY_LINES = 12

interface KeyEdge {
    key: UiKey
    down: boolean
    atMs: number
}

let fw: PumpFirmware = null
let display: PanelDisplay = null
let ui = initialUiState()
const queue: KeyEdge[] = []
let lastText = ""
let lastInverted = false
let lastFrameMs = -100000
let busy = false

/** Starts the panel: key edges are queued as they come and acted on at the next panel turn. */
export function startPanel(firmware: PumpFirmware, screen: PanelDisplay, keys: PanelKeySource) {
    fw = firmware
    display = screen
    keys.onKey((name: string, down: boolean) => {
        const i = UI_KEYS.indexOf(name as UiKey)
        // An unknown key name is logged, never guessed.
        if (i < 0) console.log("PANEL unknown key " + name)
        else queue.push({ key: UI_KEYS[i], down: down, atMs: fw.dev.clock.nowMs() })
    })
    fw.dev.clock.every(UI_TICK_MS, panelTurn)
}

/** One panel turn; a turn still running when the next is due is skipped. */
async function panelTurn() {
    if (busy) return
    busy = true
    try {
        const nowMs = fw.dev.clock.nowMs()
        const keyed = queue.length > 0
        while (queue.length > 0) {
            const k = queue.shift()
            await step(k.down ? "press" : "release", k.key, k.atMs)
        }
        const screen = await step("tick", "start", nowMs)
        const text = screen.lines.join("\n")
        // A new title row or inversion is a new screen (alarm, state change): shown at once.
        const structural = screen.inverted !== lastInverted || screen.lines[0] !== lastText.split("\n")[0]
        if (text !== lastText && (keyed || structural || nowMs - lastFrameMs >= FRAME_MIN_MS)) {
            lastText = text
            lastInverted = screen.inverted
            lastFrameMs = nowMs
            await display.show(screen.lines, screen.inverted)
        }
    } catch (e) {
        console.log("PANEL error " + errorText(e))
    }
    busy = false
}

async function status(): Promise<PanelStatus> {
    const mon = fw.safety.monitor
    const a = mon.annunciation(fw.dev.clock.nowMs())
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
        history: ui.screen === "history" ? historyLines(fw.log) : [],
    }
}

async function step(kind: string, key: UiKey, nowMs: number): Promise<Screen> {
    const out = uiStep(ui, { kind: kind, key: key, nowMs: nowMs }, await status())
    ui = out.state
    for (let i = 0; i < out.log.length; i++) fw.log.record(nowMs, out.log[i].kind, out.log[i].detail)
    if (out.command) {
        const r = applyUiCommand(fw.pump, fw.safety.monitor, out.command, nowMs)
        if (r && !r.ok) fw.log.record(nowMs, "UI_CMD_REFUSED", out.command.op + ": " + r.reason)
    }
    return out.screen
}

function historyLines(log: EventLog): string[] {
    const all = log.all()
    const out: string[] = []
    for (let i = all.length - 1; i >= 0 && out.length < HISTORY_LINES; i--) out.push(all[i].kind + " " + all[i].detail)
    return out
}
