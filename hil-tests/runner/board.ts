// Bench backend: the same scenarios against a real board. The board runs the HIL build (its
// sensors are the rig's real sensors; its log on the serial port carries the same `HIL` lines)
// and the rig controller drives the disturbances (pinch valve, air pump, door solenoid, power
// relay, keypad opto-switches) from a line protocol documented in docs/hil-rig.md. Ground-truth
// volume comes from the rig's balance (`RIG t=<ms> balance_mg=<mg>` lines). NOT verified in CI:
// it needs the bench.

import { createRequire } from "node:module"
import { evaluate, Sample, ScenarioResult, Trace } from "./evaluate"
import type { Scenario, ScenarioEvent } from "./scenario"
import { parseHilLine, parseLatched } from "./sim"
import { waitFor } from "./procs"
import { assertSupported } from "./capabilities"

const require = createRequire(import.meta.url)

/** Rig controller command for an event (docs/hil-rig.md, "Rig controller protocol"). */
export function rigCommand(e: ScenarioEvent): string {
    switch (e.do) {
        case "key":
            return "KEY " + e.key
        case "occlusion":
            return "PINCH " + (e.closed ? 1 : 0)
        case "bubble":
            return "AIR " + e.volumeUl
        case "door":
            return "DOOR " + (e.open ? 1 : 0)
        case "plunger":
            return "PLUNGER " + (e.engaged ? 1 : 0)
        case "power":
            return "POWER " + (e.on ? 1 : 0)
        case "sensor":
            return "SENSOR " + e.fault
        case "stall":
            return "BRAKE " + (e.stalled ? 1 : 0)
        case "battery":
            return "SUPPLY_MV " + e.mv
        default:
            // capabilities.ts refuses these for the board before anything runs.
            throw new Error("the bench rig has no actuator for " + e.do)
    }
}

function openPort(spec: string) {
    if (!spec.startsWith("serial:")) throw new Error("--board/--rig must look like serial:/dev/ttyACM0, got " + spec)
    const { SerialPort } = require("serialport")
    const { ReadlineParser } = require("@serialport/parser-readline")
    const port = new SerialPort({ path: spec.slice(7), baudRate: 115200 })
    const lines = port.pipe(new ReadlineParser({ delimiter: "\n" }))
    return { port, lines }
}

export async function runBoardScenario(sc: Scenario, boardSpec: string, rigSpec: string, log: (l: string) => void): Promise<ScenarioResult> {
    assertSupported(sc, "board") // before any port is opened
    const wall0 = Date.now()
    const board = openPort(boardSpec)
    const rig = rigSpec === boardSpec ? board : openPort(rigSpec)
    const trace: Trace = { samples: [], program: { ok: false, reason: "no program line" }, restarts: [] }
    let ready = false
    let t0 = 0
    let scenT = 0
    let balanceMg = NaN
    let fwdSteps = 0
    const send = (cmd: string) => {
        log("rig <- " + cmd)
        rig.port.write(cmd + "\n")
    }
    const onRigLine = (raw: string) => {
        const rigLine = /^RIG t=(\d+) balance_mg=([-\d.]+)/.exec(raw.trim())
        if (rigLine) balanceMg = Number(rigLine[2]) // water: 1 mg = 1 µL
    }
    if (rig !== board) rig.lines.on("data", onRigLine)
    board.lines.on("data", (raw: string) => {
        onRigLine(raw)
        const f = parseHilLine(raw.trim())
        if (!f) return
        const t = Number(f.t)
        if (f.program) {
            trace.program = { ok: f.program === "ok", reason: f.reason ?? "" }
            ready = true
            t0 = t
        }
        if (!ready) return
        scenT = (t - t0) / 1000
        if (f.steps && Number(f.steps) > 0) fwdSteps += Number(f.steps)
        if (f.state) {
            const s: Sample = { tS: scenT, state: f.state, alarm: f.alarm === "-" ? "" : f.alarm, infusedUl: Number(f.infused), bolusUl: Number(f.bolus), deliveredUl: balanceMg, displacedUl: NaN, pressureMmHg: NaN, latched: parseLatched(f.latched), fwdSteps: fwdSteps }
            fwdSteps = 0
            trace.samples.push(s)
        }
    })
    try {
        send("RESET") // rig: all disturbances off, power-cycle the board so it boots with the program
        await waitFor(() => ready, 60000, "board to print its HIL program line")
        for (const e of [...sc.events].sort((a, b) => a.atS - b.atS)) {
            await waitFor(() => scenT >= e.atS, (e.atS + 60) * 1000, "board clock to reach " + e.atS + " s")
            send(rigCommand(e))
        }
        await waitFor(() => scenT >= sc.durationS, (sc.durationS + 60) * 1000, "board clock to reach " + sc.durationS + " s", 100)
    } catch (e) {
        trace.error = (e as Error).message
    } finally {
        send("RESET")
        board.port.close()
        if (rig !== board) rig.port.close()
    }
    return evaluate(sc, trace, "board", (Date.now() - wall0) / 1000)
}
