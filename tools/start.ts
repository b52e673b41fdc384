// `npm start`: the pump in the terminal. The real firmware bytecode with its front panel (the HIL
// image of src/firmware/hilPanel.ts: signed sample drug library, development key made for the
// build) runs in the DeviceScript VM against the plant model, in real time, through the web
// simulator's engine (tools/simWeb/engine.ts). The panel is redrawn in place; the keyboard is its
// five keys, and a few more keys disturb the plant. `--default` keeps the non-interactive
// simulator run with the default infusion (src/entries/sim.ts) for scripts.

import { spawn } from "node:child_process"
import { Command } from "commander"
import { SimEngine, SimStatus, Speed } from "./simWeb/engine"

const cmd = new Command()
    .name("start")
    .description("Run the simulated pump with its front panel in this terminal")
    .option("--speed <s>", "1 (real time), 10 or max", "1")
    .option("--default", "no panel: the simulator image with its default infusion, non-interactive (for scripts)")
    .parse()
const opt = cmd.opts<{ speed: string; default?: boolean }>()
const speed = (opt.speed === "max" ? "max" : Number(opt.speed)) as Speed
if ([1, 10, "max"].indexOf(speed) < 0) cmd.error("--speed must be 1, 10 or max")
if (!opt.default && !process.stdin.isTTY) cmd.error("the front panel needs a terminal for its keys; for scripts: npm start -- --default")

/** Terminal key -> what it does. Arrow keys arrive as escape sequences. */
const KEYS: Record<string, { key?: string; plant?: string; label: string }> = {
    "\x1b[A": { key: "up", label: "Up" },
    "\x1b[B": { key: "down", label: "Down" },
    "\r": { key: "start", label: "Enter = START / confirm" },
    "\x7f": { key: "stop", label: "Backspace = STOP / back" },
    s: { key: "stop", label: "" },
    a: { key: "ack", label: "a = ACK (silence 2 min)" },
    d: { plant: "door", label: "d = open/close the door" },
    o: { plant: "occlusion", label: "o = clamp/release the line" },
    b: { plant: "bubble", label: "b = 100 µL bubble" },
    p: { plant: "power", label: "p = cut/restore power" },
}

async function runPanel(speed: Speed) {
    const engine = new SimEngine({ programId: "panel", speed, log: l => (l.startsWith("sim:web") || l.startsWith("vclock") ? (status = l) : undefined) })
    let screen = { inverted: false, lines: ["(booting: building or loading the firmware image)"] }
    let status = "starting"
    const events: string[] = []
    let last: SimStatus | undefined
    engine.onMessage(m => {
        if (m.type === "screen") screen = { inverted: m.inverted, lines: m.lines }
        else if (m.type === "status") last = m.status
        else if (m.type === "event" || (m.type === "console" && /PANIC|Exception|OOM|error/i.test(m.line))) {
            events.push(m.line)
            if (events.length > 6) events.shift()
        } else if (m.type === "beep") process.stdout.write("\x07")
    })
    const draw = () => {
        const out: string[] = ["\x1b[H\x1b[2J", "Reference syringe pump: firmware bytecode in the DeviceScript VM, plant model, " + (speed === 1 ? "real time" : speed === "max" ? "as fast as this host runs" : speed + "x") + "\n"]
        out.push("+" + "-".repeat(21) + "+\n")
        for (let i = 0; i < 8; i++) {
            const row = (screen.lines[i] ?? "").padEnd(21).slice(0, 21)
            out.push("|" + (screen.inverted ? "\x1b[7m" + row + "\x1b[0m" : row) + "|\n")
        }
        out.push("+" + "-".repeat(21) + "+\n")
        if (last) {
            const s = last
            out.push("state " + s.state + (s.alarm ? "  alarm " + s.alarm : "") + "  infused " + (s.infusedUl / 1000).toFixed(3) + " mL  line " + s.pressureMmHg.toFixed(0) + " mmHg  plant flow " + (s.flowUlPerH / 1000).toFixed(2) + " mL/h  t " + s.tS.toFixed(0) + " s\n")
            if (s.stopped) out.push("FIRMWARE STOPPED: " + s.stopped + " (p restores the power: a fresh boot)\n")
            out.push("door " + (s.plant.doorOpen ? "OPEN" : "closed") + "  line " + (s.plant.occluded ? "CLAMPED" : "open") + (s.powered ? "" : "  POWER OFF") + (s.behindS > 0 ? "  (host behind by " + s.behindS.toFixed(1) + " s)" : "") + "\n")
        } else out.push(status + "\n")
        out.push("\nKeys: Up/Down, " + Object.values(KEYS).filter(k => k.label && k.key !== "up" && k.key !== "down").map(k => k.label).join(", ") + ", q = quit\n")
        out.push("\n" + events.map(e => e.slice(0, 110)).join("\n") + "\n")
        process.stdout.write(out.join(""))
    }
    process.stdin.setRawMode(true)
    process.stdin.setEncoding("utf8")
    const quit = async () => {
        clearInterval(timer)
        process.stdin.setRawMode(false)
        await engine.close()
        process.stdout.write("\n")
        process.exit(0)
    }
    process.stdin.on("data", (chunk: string) => {
        if (chunk === "q" || chunk === "\x03") return void quit()
        const k = KEYS[chunk]
        if (!k) return
        const s = last
        const req = k.key
            ? { op: "key" as const, key: k.key }
            : k.plant === "door"
              ? { op: "door" as const, open: !(s && s.plant.doorOpen) }
              : k.plant === "occlusion"
                ? { op: "occlusion" as const, closed: !(s && s.plant.occluded) }
                : k.plant === "bubble"
                  ? { op: "bubble" as const, volumeUl: 100 }
                  : { op: "power" as const, on: !(s ? s.powered : true) }
        engine.command(req).catch(e => events.push("refused: " + (e as Error).message))
    })
    const timer = setInterval(draw, 100)
    await engine.start()
}

if (opt.default) {
    // The simulator image runs the default program with the wall clock until it is stopped.
    const devs = spawn("npx", ["devs", "run", "src/entries/sim.ts", "--test", "--test-self-exit", "--test-timeout", "86400000"], { stdio: "inherit" })
    devs.on("exit", code => process.exit(code ?? 1))
} else await runPanel(speed)
