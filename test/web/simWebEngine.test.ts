// The web simulator's parsing and request validation (tools/simWeb/): what the page may ask for is
// checked before it reaches the plant, and the firmware's lines are read as their formats say.
import { describe, expect, it } from "vitest"
import { BUBBLE_MAX_UL, Command, KEY_NAMES, parseBeep, PROGRAMS, SimEngine, toEvent } from "../../tools/simWeb/engine"
import { UI_KEYS } from "../../src/core/ui/panel"
import { sameOrigin } from "../../tools/simWeb/server"
import { parseHilLine, parsePanelLine } from "../../hil-tests/runner/session"

describe("firmware lines the page shows", () => {
    it("reads the front panel's PANEL frame (src/hal/panelDisplay.ts format) with the VM's prefix and colours", () => {
        const f = parsePanelLine("\x1b[32m> PANEL inv=1 |OCCLUSION  DOWN|rate 25 mL/h| |\x1b[0m")
        expect(f).toEqual({ inverted: true, lines: ["OCCLUSION  DOWN", "rate 25 mL/h", " "] })
        expect(parsePanelLine("PANEL inv=0 |a|")).toEqual({ inverted: false, lines: ["a"] })
    })
    it("ignores lines that are not a complete PANEL frame", () => {
        expect(parsePanelLine("PANEL inv=2 |a|")).toBeNull()
        expect(parsePanelLine("PANEL inv=0 |a")).toBeNull()
        expect(parsePanelLine("HIL t=1 state=Running")).toBeNull()
    })
    it("reads beep=<Hz>/<ms> and refuses a malformed one", () => {
        expect(parseBeep(parseHilLine("HIL t=5 beep=960/150")!)).toEqual({ hz: 960, ms: 150 })
        expect(parseBeep(parseHilLine("HIL t=5 beep=960")!)).toBeNull()
        expect(parseBeep(parseHilLine("HIL t=5 beep=0/150")!)).toBeNull()
        expect(parseBeep(parseHilLine("HIL t=5 alarmLed=1")!)).toBeNull()
    })
})

describe("page requests", () => {
    const bad = (c: unknown) => () => toEvent(c as Command)
    it("maps each fault button to the scenario event the runner applies", () => {
        expect(toEvent({ op: "occlusion", closed: true })).toMatchObject({ do: "occlusion", closed: true })
        expect(toEvent({ op: "bubble", volumeUl: 150 })).toMatchObject({ do: "bubble", volumeUl: 150 })
        expect(toEvent({ op: "sensor", sensor: "pressure", mode: "unplugged" })).toMatchObject({ do: "sensor", fault: "unplugged" })
        expect(toEvent({ op: "sensor", sensor: "pressure", mode: "plugged" })).toMatchObject({ do: "sensor", fault: "none" })
        expect(toEvent({ op: "sensor", sensor: "door", mode: "open" })).toMatchObject({ do: "sensorFault", sensor: "door", mode: "open" })
        expect(toEvent({ op: "power", on: false })).toMatchObject({ do: "power", on: false })
        expect(toEvent({ op: "key", key: "ack" })).toMatchObject({ do: "key", key: "ack" })
    })
    it("refuses malformed requests with the reason, before anything reaches the plant", () => {
        expect(bad({ op: "key", key: "left" })).toThrow(/unknown key 'left'/)
        expect(bad({ op: "bubble", volumeUl: 0 })).toThrow(/bubble volume/)
        expect(bad({ op: "bubble", volumeUl: -5 })).toThrow(/bubble volume/)
        expect(bad({ op: "bubble", volumeUl: NaN })).toThrow(/bubble volume/)
        expect(bad({ op: "bubble", volumeUl: "50" })).toThrow(/bubble volume/)
        expect(bad({ op: "bubble", volumeUl: BUBBLE_MAX_UL + 1 })).toThrow(/bubble volume/)
        expect(bad({ op: "battery", mv: -1 })).toThrow(/battery/)
        expect(bad({ op: "occlusion", closed: "yes" })).toThrow(/closed must be true or false/)
        expect(bad({ op: "sensor", sensor: "door", mode: "unplugged" })).toThrow(/only the pressure sensor/)
        expect(bad({ op: "sensor", sensor: "flow", mode: "open" })).toThrow(/unknown sensor 'flow'/)
        expect(bad({ op: "sensor", sensor: "air", mode: "melted" })).toThrow(/unknown sensor fault/)
        expect(bad({ op: "launch" })).toThrow(/unknown request 'launch'/)
    })
})

describe("WebSocket origin", () => {
    it("accepts only the page this server served (a WebSocket is not bound by the same-origin rule)", () => {
        expect(sameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080")).toBe(true)
        expect(sameOrigin("https://evil.example", "127.0.0.1:8080")).toBe(false)
        expect(sameOrigin("http://127.0.0.1:9999", "127.0.0.1:8080")).toBe(false)
        expect(sameOrigin(undefined, "127.0.0.1:8080")).toBe(false)
        expect(sameOrigin("not a url", "127.0.0.1:8080")).toBe(false)
    })
})

describe("programs the page offers", () => {
    it("opens on the front panel (no fixed program, the panel's five keys); the key-less programs keep the rig's seven keys", () => {
        expect(new SimEngine().programId).toBe("panel")
        expect(PROGRAMS[0]).toMatchObject({ id: "panel", program: null, keys: UI_KEYS })
        for (const p of PROGRAMS.slice(1)) {
            expect(p.program).not.toBeNull()
            expect(p.keys).toEqual(KEY_NAMES)
        }
    })
})
