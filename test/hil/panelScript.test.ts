// The rig's front-panel key scripts (hil-tests/runner/session.ts): key sequences, keyUntil that
// reads the display frames back, the shift of later events when a keyUntil runs long, and the
// display frame line. A fake rig records the presses; the firmware's lines are fed by hand.

import { describe, expect, it } from "vitest"
import { parseScenario } from "../../hil-tests/runner/scenario"
import { HilSession, parsePanelLine, ROLES } from "../../hil-tests/runner/session"
import { plantFor } from "../../hil-tests/runner/sim"
import { evaluate } from "../../hil-tests/runner/evaluate"

function scenario(events: unknown[], expect: unknown[] = [{ check: "noAlarm" }]) {
    const doc = { name: "t", description: "panel key script test", backend: "vclock", panel: true, durationS: 100, program: null as null, events, expect }
    return parseScenario(JSON.stringify(doc), "t.json")
}

/** A session whose firmware is ready at vm t=0; returns it with the presses it made. */
function run(events: unknown[], expect?: unknown[]) {
    const sc = scenario(events, expect)
    const presses: { key: string; holdMs?: number; tS: number }[] = []
    const noop = (): void => undefined
    let s: HilSession
    s = new HilSession(sc, plantFor(sc), {
        update: noop,
        press: async (key: string, holdMs?: number) => {
            presses.push({ key, holdMs, tS: s.scenT })
        },
        setPressurePlugged: noop,
        powerOff: noop,
        powerOn: noop,
    }, noop)
    for (const r of ROLES) s.onLine("HIL t=0 role=" + r + " bound=1")
    s.onLine("HIL t=0 program=panel")
    const status = (ms: number) => s.onLine("HIL t=" + ms + " state=Idle alarm=- infused=0 bolus=0 fired=0")
    const frame = (rows: string[]) => s.onLine("> PANEL inv=0 |" + rows.join("|") + "|")
    return { s, sc, presses, status, frame }
}

const settle = () => new Promise<void>(r => setImmediate(r))

describe("front-panel key scripts", () => {
    it("a keys event becomes one press per key, 0.5 s apart (past the 300 ms view guard)", () => {
        const sc = scenario([{ atS: 1, do: "keys", keys: ["start", "down", "start"] }])
        expect(sc.events).toEqual([
            { atS: 1, do: "key", key: "start" },
            { atS: 1.5, do: "key", key: "down" },
            { atS: 2, do: "key", key: "start" },
        ])
    })

    it("a panel scenario must leave the program to the keys and run on vclock", () => {
        const bad = { name: "t", description: "panel key script test", backend: "sim", panel: true, durationS: 10, program: null as null, events: [] as unknown[], expect: [{ check: "noAlarm" }] }
        expect(() => parseScenario(JSON.stringify(bad), "t.json")).toThrow(/vclock/)
    })

    it("keyUntil presses once per gapS until a frame shows the text, then later events run at their own time", async () => {
        const r = run([
            { atS: 1, do: "keyUntil", key: "up", screenContains: "  3 kg", maxPresses: 10, gapS: 0.4 },
            { atS: 5, do: "key", key: "start" },
        ])
        for (let ms = 100; ms <= 6000; ms += 100) {
            // The display follows the presses: n presses show n kg.
            const ups = r.presses.filter(p => p.key === "up").length
            r.frame(["WEIGHT", "  " + ups + " kg"])
            r.status(ms)
            await settle()
        }
        expect(r.presses.filter(p => p.key === "up").map(p => p.tS)).toEqual([1, 1.4, 1.8])
        // Shown at 1.9 s, well before 5 s: START keeps its time.
        expect(r.presses.find(p => p.key === "start")!.tS).toBe(5)
        expect(r.s.trace.keyUntilFailures).toBeUndefined()
        expect(r.s.trace.screens!.some(f => f.text === "WEIGHT\n  3 kg")).toBe(true)
    })

    it("a keyUntil that runs past the next event's time moves every later event by the overrun", async () => {
        const r = run([
            { atS: 1, do: "keyUntil", key: "up", screenContains: "  8 kg", maxPresses: 20, gapS: 0.5 },
            { atS: 2, do: "key", key: "start" },
            { atS: 3, do: "key", key: "stop" },
        ])
        for (let ms = 100; ms <= 10000; ms += 100) {
            r.frame(["  " + r.presses.filter(p => p.key === "up").length + " kg"])
            r.status(ms)
            await settle()
        }
        // 8 presses at 1, 1.5, ... 4.5 s; the text is on the frame at 4.6 s: START moves from 2 to
        // 4.6 s and STOP keeps its 1 s after START.
        expect(r.presses.filter(p => p.key === "up").length).toBe(8)
        expect(r.presses.find(p => p.key === "start")!.tS).toBeCloseTo(4.6, 5)
        expect(r.presses.find(p => p.key === "stop")!.tS).toBeCloseTo(5.6, 5)
    })

    it("a keyUntil whose text never shows fails the scenario after maxPresses", async () => {
        const r = run([{ atS: 1, do: "keyUntil", key: "down", screenContains: "Dopamine", maxPresses: 3 }])
        for (let ms = 100; ms <= 5000; ms += 100) {
            r.frame(["> Heparin"])
            r.status(ms)
            await settle()
        }
        expect(r.presses.length).toBe(3)
        expect(r.s.trace.keyUntilFailures![0]).toMatch(/'Dopamine' not shown after 3 presses of down/)
        const res = evaluate(r.sc, r.s.trace, "vclock", 0)
        expect(res.pass).toBe(false)
        expect(res.checks.find(c => c.check === "keyUntil")!.pass).toBe(false)
    })

    it("a hold presses the key for its duration (the panel's auto-repeat)", async () => {
        const r = run([{ atS: 1, do: "hold", key: "up", forS: 3 }])
        for (let ms = 100; ms <= 2000; ms += 100) {
            r.status(ms)
            await settle()
        }
        expect(r.presses).toEqual([{ key: "up", holdMs: 3000, tS: 1 }])
    })

    it("screen checks read the frames in their window, inverted or not", async () => {
        const r = run([], [
            { check: "screen", contains: "HIGH PRIORITY ALARM", inverted: true, fromS: 2 },
            { check: "screen", contains: "HIGH PRIORITY ALARM", inverted: false },
            { check: "screenNever", contains: "21 mcg/kg/min" },
        ])
        r.status(1000)
        r.s.onLine("PANEL inv=0 |HOME|")
        r.status(2500)
        r.s.onLine("PANEL inv=1 |HIGH PRIORITY ALARM|Syringe door open|")
        r.status(3000)
        const res = evaluate(r.sc, r.s.trace, "vclock", 0)
        expect(res.checks.map(c => c.pass)).toEqual([true, false, true])
    })

    it("reads the display line with the VM's prefix; a row may be blank; anything else is not a frame", () => {
        expect(parsePanelLine("\x1b[32m> PANEL inv=1 |A| |B|\x1b[0m")).toEqual({ inverted: true, lines: ["A", " ", "B"] })
        expect(parsePanelLine("PANEL inv=0 |a")).toBeNull()
        expect(parsePanelLine("HIL t=1 state=Idle")).toBeNull()
    })
})
