// In-VM front-panel test (`npm run test:vm:ui`): the UI model (src/core/ui/panel.ts) runs in the
// DeviceScript VM on the signed sample library and programs dopamine 5 mcg/kg/min for 70 kg
// exactly as the host timelines do (test/ui), so the subset traps (strings, arrays, closures)
// are caught where they bite. Time is the test's own counter: the model reads no clock.

import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { EventLog } from "../core/eventLog"
import { PumpController, REFERENCE_PUMP_CONFIG } from "../core/pump"
import { LibraryStore } from "../core/druglib/store"
import { applyUiCommand } from "../core/ui/apply"
import { initialUiState, PanelStatus, Screen, UiCommand, UiKey, UiState, uiStep } from "../core/ui/panel"
import { cryptoVerifier, installSigned, loadDeviceKey, provisionDeviceKey } from "../firmware/libraryDevice"
import { createDeviceServices } from "../hal/device"
import { SAMPLE_SIGNED, TEST_KEY_HEX } from "../generated/druglibFixture"
import "./oledBus"

const dev = createDeviceServices()
const log = new EventLog(64)
const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
let store: LibraryStore = null
let ui: UiState = initialUiState()
let screen: Screen = null
let nowMs = 0
let alarmCode = ""
let lastCmd: UiCommand = null

const alarms = {
    acknowledge: (t: number) => {
        alarmCode = ""
    },
    pauseAudio: (t: number) => true,
}

function status(): PanelStatus {
    return {
        pump: pump.status(), selfTestOk: true, batteryMv: 3900, pressureMmHg: 7, pressureLimitMmHg: 500, plungerEngaged: true,
        alarmCode: alarmCode, alarmPriority: alarmCode.length > 0 ? "high" : "", audioPaused: false, library: store.current(), history: [],
    }
}

function step(kind: string, key: UiKey) {
    const out = uiStep(ui, { kind: kind, key: key, nowMs: nowMs }, status())
    ui = out.state
    screen = out.screen
    for (let i = 0; i < out.log.length; i++) log.record(nowMs, out.log[i].kind, out.log[i].detail)
    if (out.command) {
        lastCmd = out.command
        applyUiCommand(pump, alarms, out.command, nowMs)
    }
}

/** One press, release and tick per scheduler turn (the VM panics after 131,072 opcodes in one
 *  turn; on the device each panel turn is its own timer callback). */
async function press(key: UiKey, times: number) {
    for (let i = 0; i < times; i++) {
        nowMs += 400
        step("press", key)
        await ds.sleep(0)
        nowMs += 100
        step("release", key)
        await ds.sleep(0)
        step("tick", key)
        await ds.sleep(0)
    }
}

function text(): string {
    return screen.lines.join("\n")
}

describe("front panel in the VM", () => {
    test("programs dopamine 5 mcg/kg/min for 70 kg from the signed sample library", async () => {
        await provisionDeviceKey(dev.settings, TEST_KEY_HEX)
        store = new LibraryStore(cryptoVerifier(await loadDeviceKey(dev.settings, log, 0), dev.hmacSha256), log)
        const r = await installSigned(store, "Idle", SAMPLE_SIGNED, 0, dev)
        expect(r.reason).toBe("")
        step("tick", "start")
        expect(screen.lines[0]).toBe("PUMP READY      3.9 V")
        await press("start", 1)
        await press("down", 4)
        await press("start", 1) // BD Plastipak 50 mL
        // The care-area and drug lists are named from the library (list items read by field name).
        expect(screen.lines[1]).toBe("> ICU                ")
        await press("start", 1) // ICU
        await press("down", 2)
        expect(screen.lines[3]).toBe("> Dopamine           ")
        await press("start", 1) // Dopamine
        await press("start", 1) // 400 mg/250 mL
        await press("up", 31) // blank -> 40 kg -> 70 kg
        expect(screen.lines[2]).toBe("  70 kg              ")
        await press("start", 1)
        expect(screen.lines[3]).toBe("= 13.125 mL/h        ")
        await press("start", 1) // dose 5
        await press("start", 1) // VTBI 50 mL
        expect(screen.lines[5]).toBe("Dose 5 mcg/kg/min    ")
        await press("start", 1)
        expect(screen.lines[1]).toBe("Rate 13.125 mL/h     ")
        await press("start", 1)
        expect(lastCmd.op).toBe("start")
        expect(lastCmd.program.rateUlPerH).toBe(13125)
        expect(pump.state()).toBe("Running")
        step("tick", "start")
        expect(text().indexOf("Dopamine 5 mcg/kg/min") >= 0).toBe(true)
    })

    test("a high-priority alarm inverts the screen; ACK acknowledges", async () => {
        alarmCode = "DOOR_OPEN"
        nowMs += 1000
        step("tick", "start")
        expect(screen.inverted).toBe(true)
        expect(screen.lines[0]).toBe("HIGH PRIORITY ALARM  ")
        await press("ack", 1)
        expect(lastCmd.op).toBe("ack")
        expect(screen.inverted).toBe(false)
    })

    // The running menu, state labels and list-back steps are string tables read with indexOf /
    // slice / split in the VM (docs/front-panel.md, "Size"): each path once on the VM's own strings.
    test("running menu: Pause pauses, STOP on the paused menu ends the infusion", async () => {
        for (let i = 0; i < 5 && screen.lines[7].indexOf("> Pause") < 0; i++) await press("down", 1)
        expect(screen.lines[7]).toBe("> Pause              ")
        await press("start", 1)
        expect(lastCmd.op).toBe("pause")
        expect(pump.state()).toBe("Paused")
        expect(screen.lines[0]).toBe("PAUSED          3.9 V")
        await press("stop", 1)
        expect(lastCmd.op).toBe("stop")
        expect(pump.state()).toBe("Programmed")
        expect(screen.lines[0]).toBe("READY TO START  3.9 V")
    })
})
