// Terminal front panel (`npm run panel`): the pump's panel model, pump controller, safety monitor
// and the sample drug library (compiled, signed with a key made for this run only, verified and
// installed as on the device) on the host, in real time, drawn in place in the terminal.
// This is the host model, not the firmware in the VM (docs/front-panel.md says why).
//
// Keys: Up/Down arrows = UP/DOWN (hold to auto-repeat), Enter = START, s or Space = STOP,
// a = ACK, d = open/close the syringe door, p = plunger clamp, b = battery low/normal, q = quit.

import { compileFile } from "./druglib/compile"
import { newKeyHex, nodeVerifier, sign, split } from "./druglib/sign"
import { EventLog } from "../src/core/eventLog"
import { LibraryStore } from "../src/core/druglib/store"
import { CONTROL_PERIOD_MS } from "../src/core/pump"
import { UiKey } from "../src/core/ui/panel"
import { PanelSim } from "./panelSim"

/** A terminal sends no key-up: a key counts as held while its auto-repeat characters keep
 *  coming, and as released this long after the last one (longer than the OS repeat delay). */
const RELEASE_FIRST_MS = 550
const RELEASE_REPEAT_MS = 120

function installSampleLibrary() {
    const r = compileFile(new URL("../docs/sample-drug-library.json", import.meta.url).pathname)
    if (r.errors.length > 0) throw new Error(r.errors.map(e => e.path + ": " + e.message).join("\n"))
    const key = Buffer.from(newKeyHex(), "hex")
    const signed = sign(key, r.bytes!)
    const parts = split(signed)!
    const store = new LibraryStore(nodeVerifier(key), new EventLog(10))
    const res = store.installSigned(0, "Idle", parts.body, parts.mac)
    if (!res.ok) throw new Error("sample library refused: " + res.reason)
    return store.current()
}

const sim = new PanelSim(installSampleLibrary())
let held: UiKey | "" = ""
let releaseAt = 0
let repeats = 0
let lastDraw = ""

function keyChar(k: UiKey) {
    const now = sim.t
    if (held === k) {
        repeats++
        releaseAt = now + RELEASE_REPEAT_MS
        return
    }
    if (held) sim.step("release", held)
    held = k
    repeats = 0
    releaseAt = now + RELEASE_FIRST_MS
    sim.step("press", k)
}

function draw() {
    const inv = sim.screen.inverted
    const rows = sim.screen.lines.map(l => "| " + (inv ? "\x1b[7m" + l + "\x1b[0m" : l) + " |")
    const status = sim.pump.status()
    const out = [
        "+" + "-".repeat(23) + "+",
        ...rows,
        "+" + "-".repeat(23) + "+",
        "",
        "pump: " + status.state.padEnd(12) + " door: " + (sim.door ? "OPEN  " : "closed") + " plunger: " + (sim.plunger ? "held" : "OPEN") + "  battery: " + sim.batteryMv + " mV   ",
        "",
        "Up/Down = UP/DOWN (hold to repeat)   Enter = START   s/Space = STOP   a = ACK",
        "d = door   p = plunger   b = battery low   q = quit",
    ].join("\n")
    if (out !== lastDraw) {
        process.stdout.write("\x1b[H\x1b[2J" + out + "\n")
        lastDraw = out
    }
}

process.stdin.setRawMode?.(true)
process.stdin.resume()
process.stdin.on("data", (buf: Buffer) => {
    const s = buf.toString("latin1")
    for (let i = 0; i < s.length; i++) {
        const rest = s.slice(i)
        if (rest.startsWith("\x1b[A")) {
            keyChar("up")
            i += 2
        } else if (rest.startsWith("\x1b[B")) {
            keyChar("down")
            i += 2
        } else if (s[i] === "\r" || s[i] === "\n") keyChar("start")
        else if (s[i] === "s" || s[i] === " ") keyChar("stop")
        else if (s[i] === "a") keyChar("ack")
        else if (s[i] === "d") sim.door = !sim.door
        else if (s[i] === "p") sim.plunger = !sim.plunger
        else if (s[i] === "b") sim.batteryMv = sim.batteryMv > 3600 ? 3500 : 3900
        else if (s[i] === "q" || s[i] === "\x03") {
            process.stdout.write("\n")
            process.exit(0)
        }
    }
    draw()
})

setInterval(() => {
    sim.advance(CONTROL_PERIOD_MS)
    if (held && sim.t >= releaseAt) {
        sim.step("release", held)
        held = ""
    }
    draw()
}, CONTROL_PERIOD_MS)
