// Front panel on the device: feeds key edges and a 100 ms tick into the pure UI model
// (src/core/ui/panel.ts), writes its log records, carries out its command on the pump and shows
// its screen. It runs on its own timer, never inside the control tick. Frames are sent only
// when the text changes, and a screen that changes by itself (the running volume, time left) at
// most once a second; the OLED writer then sends only the changed rows (about 3 ms each on a
// 400 kHz bus, 24 ms for all eight): <= 1 frame/s while running, a frame per key while programming.
//
// Plain functions over module variables rather than a class: a device has one panel, and every
// method would cost a 16-byte descriptor plus prototype set-up in the 64 KB code budget.

import { occlusionLimitMmHg } from "../core/safety/occlusion"
import { applyUiCommand } from "../core/ui/apply"
import { initialUiState, PanelStatus, Screen, UI_KEYS, UI_TICK_MS, UiInput, UiKey, uiStep } from "../core/ui/panel"
import { PumpFirmware } from "./app"
import { PumpStatus } from "../core/pump"
import { errorText } from "./control"
import { PanelDisplay, PanelKeySource } from "../hal/types"

/** Minimum time between frames when nothing but a live value changed. */
export const FRAME_MIN_MS = 1000
const HISTORY_LINES = 12

let fw: PumpFirmware = null
let display: PanelDisplay = null
let ui = initialUiState()
/** Key edges as model inputs, in the order they came. */
const queue: UiInput[] = []
let lastText = ""
let lastTitle = ""
let lastInverted = false
let lastFrameMs = -100000
let busy = false
let lastSig = ""
let lastStepMs = -100000

/** Starts the panel: key edges are queued as they come and acted on at the next panel turn. */
export function startPanel(firmware: PumpFirmware, screen: PanelDisplay, keys: PanelKeySource) {
    fw = firmware
    display = screen
    keys.onKey((name: string, down: boolean) => {
        const i = UI_KEYS.indexOf(name as UiKey)
        // An unknown key name is logged, never guessed.
        if (i < 0) console.log("PANEL unknown key " + name)
        else queue.push({ kind: down ? "press" : "release", key: UI_KEYS[i], nowMs: fw.dev.clock.nowMs() })
    })
    fw.dev.clock.every(UI_TICK_MS, panelTurn)
}

/** The tick input, reused (its time set each turn): one allocation less per turn. */
const TICK: UiInput = { kind: "tick", key: "start", nowMs: 0 }

/** One panel turn: the queued key edges, then a tick, each a model step with fresh status; a
 *  turn still running when the next is due is skipped. The status is built in its own function:
 *  this one runs every UI_TICK_MS and its frame is a VM heap block (8 B a local). */
async function panelTurn() {
    if (busy) return
    busy = true
    try {
        const nowMs = fw.dev.clock.nowMs()
        const keyed = queue.length > 0
        // A model step (status, render, compare) costs about 10,000 VM opcodes, some 55 ms at the
        // RP2040 slow estimate (npm run bench:device). It runs at once for a key, every turn while a
        // key is held (auto-repeat), when the pump state, the top alarm or its audio pause changes,
        // and otherwise once a second (the live values; the 2-minute program timeout).
        const a0 = fw.safety.monitor.annunciation(nowMs)
        const sig = fw.pump.state() + a0.code + a0.audioPaused
        if (!keyed) if (ui.held === "") if (sig === lastSig) if (nowMs - lastStepMs < FRAME_MIN_MS) {
            busy = false
            return
        }
        lastSig = sig
        lastStepMs = nowMs
        TICK.nowMs = nowMs
        let screen: Screen = null
        let input: UiInput = null
        while (input !== TICK) {
            input = TICK
            if (queue.length > 0) input = queue.shift()
            const t = input.nowMs
            const out = uiStep(ui, input, await panelStatus())
            ui = out.state
            for (let i = 0; i < out.log.length; i++) fw.log.record(t, out.log[i].kind, out.log[i].detail)
            const cmd = out.command
            if (cmd) {
                const r = applyUiCommand(fw.pump, fw.safety.monitor, cmd, t)
                if (r) if (!r.ok) fw.log.record(t, "UI_CMD_REFUSED", cmd.op + ": " + r.reason)
            }
            screen = out.screen
        }
        const text = screen.lines.join("\n")
        // A new title row or inversion is a new screen (alarm, state change): shown at once.
        let due = keyed
        if (screen.inverted !== lastInverted) due = true
        if (screen.lines[0] !== lastTitle) due = true
        if (nowMs - lastFrameMs >= FRAME_MIN_MS) due = true
        if (text !== lastText) if (due) {
            lastText = text
            lastTitle = screen.lines[0]
            lastInverted = screen.inverted
            lastFrameMs = nowMs
            await display.show(screen.lines, screen.inverted)
        }
    } catch (e) {
        console.log("PANEL error " + errorText(e))
    }
    busy = false
}

/** The pump fields the panel model reads, refreshed in place: `status()` builds a 17-field
 *  object needing a 292-byte block per step, which the fragmented VM heap of a long infusion did
 *  not have (HIL panel-bolus-refused, OutOfMemory at 167 s; REQ-HEAP-002). */
let ps: PumpStatus = null

/** The status for one model step: the top alarm, the sensors, the pump, and on the history
 *  screen the newest records first. */
async function panelStatus(): Promise<PanelStatus> {
    const mon = fw.safety.monitor
    const cfg = mon.cfg
    const a = mon.annunciation(fw.dev.clock.nowMs())
    let batteryMv = NaN
    let pressure = 0
    let plunger = false
    try {
        const sen = await fw.hw.sensors.read()
        batteryMv = sen.batteryMv
        pressure = (sen.pressureAdc - cfg.pressureCal.offsetCounts) / cfg.pressureCal.countsPerMmHg
        plunger = sen.plungerEngaged
    } catch (e) {
        // shown as "-- V"; the safety monitor raises the sensor fault
    }
    const history: string[] = []
    if (ui.screen === "history") {
        const all = fw.log.all()
        for (let i = all.length - 1; i >= 0 && history.length < HISTORY_LINES; i--) history.push(all[i].kind + " " + all[i].detail)
    }
    const pump = fw.pump
    if (!ps) ps = pump.status()
    const prog = pump.program
    const infused = pump.infusedUlNow()
    const vtbi = prog ? prog.vtbiUl : 0
    ps.state = pump.state()
    ps.program = prog
    ps.rateUlPerH = pump.currentRateUlPerH
    ps.infusedUl = infused
    ps.vtbiUl = vtbi
    ps.remainingUl = vtbi > infused ? vtbi - infused : 0
    return {
        pump: ps,
        selfTestOk: fw.selfTestOk,
        batteryMv: batteryMv,
        pressureMmHg: pressure,
        pressureLimitMmHg: occlusionLimitMmHg(cfg.occlusion.level),
        plungerEngaged: plunger,
        alarmCode: a.code,
        alarmPriority: a.priority,
        audioPaused: a.audioPaused,
        library: fw.library.current(),
        history: history,
    }
}
