// The web simulator's pump: the real HIL firmware bytecode in the DeviceScript WASM VM on the
// vclock co-simulation (hil-tests/runner/vclock/: VM, in-process Jacdac bus with the rig, plant
// moved by the firmware's HIL lines through the shared HilSession), with the virtual clock paced
// to the wall clock at a chosen speed instead of run flat out. Everything the pump does is the
// firmware's; the page only changes the plant (clamp, bubble, door, ...) and presses rig keys.
//
// Speed: the vclock path runs at any pace up to what the host executes (the bytecode ran at
// 25-33 virtual s per CPU s here, docs/hil-rig.md), so 1x (real time), 10x and "max" (as fast as
// the host goes) are offered; the sim path (`devs run`, wall clock) could only do 1x and is not
// used here. When the host cannot keep up, the engine drops the backlog and says so (`behindS`).

import { createRequire } from "node:module"
import { findSyringe } from "../../src/core/syringe"
import type { InfusionProgram } from "../../src/core/program"
import { createPlant } from "../../hil-tests/plant/index"
import type { PlantModel } from "../../hil-tests/plant/plant"
import type { Plant } from "../../hil-tests/plant/api"
import { SENSOR_NAMES } from "../../hil-tests/plant/api"
import { KEY_NAMES, SimRig } from "../../hil-tests/runner/rig"
import type { Scenario, ScenarioEvent } from "../../hil-tests/runner/scenario"
import { HilSession, parseHilLine, parsePanelLine, ROLES } from "../../hil-tests/runner/session"
import { PANEL_SYRINGE_ID } from "../../hil-tests/runner/scenario"
import { VirtualClock } from "../../hil-tests/runner/vclock/clock"
import { VmNode } from "../../hil-tests/runner/vclock/vmNode"
import { buildImage, Image } from "../../hil-tests/runner/vclock/build"
import { UI_KEYS } from "../../src/core/ui/panel"

const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jd: any = require("jacdac-ts")

/** Programs the page offers, the first the default. "panel" is the front-panel image
 *  (src/firmware/hilPanel.ts, the image `npm start` runs): the pump boots Idle with the signed
 *  sample library and is programmed with the panel's five keys (UI_KEYS). The others are one image
 *  of fixed programs without a panel (the VM's device id picks one), each with a bolus so the bolus
 *  key does something; they take the rig's seven direct keys (KEY_NAMES). `keys`: the keys the
 *  program's image acts on, the ones the page shows. */
export const PROGRAMS: { id: string; label: string; program: InfusionProgram | null; keys: string[] }[] = [
    { id: "panel", label: "Front panel: program it with the keys from the signed sample drug library (the image npm start runs)", program: null, keys: UI_KEYS },
    { id: "bd50-25", label: "No panel: BD Plastipak 50 mL, 25 mL/h, VTBI 45 mL, bolus 0.5 mL/10 s", program: { syringeId: "bd-plastipak-50", rateUlPerH: 25000, vtbiUl: 45000, kvoRateUlPerH: 0, bolusUl: 500, bolusDurationS: 10 }, keys: KEY_NAMES },
    { id: "bd50-5", label: "No panel: BD Plastipak 50 mL, 5 mL/h, VTBI 20 mL, bolus 0.5 mL/10 s", program: { syringeId: "bd-plastipak-50", rateUlPerH: 5000, vtbiUl: 20000, kvoRateUlPerH: 0, bolusUl: 500, bolusDurationS: 10 }, keys: KEY_NAMES },
    { id: "bd50-100", label: "No panel: BD Plastipak 50 mL, 100 mL/h, VTBI 45 mL, bolus 1 mL/10 s", program: { syringeId: "bd-plastipak-50", rateUlPerH: 100000, vtbiUl: 45000, kvoRateUlPerH: 0, bolusUl: 1000, bolusDurationS: 10 }, keys: KEY_NAMES },
    { id: "bd20-10", label: "No panel: BD Plastipak 20 mL, 10 mL/h, VTBI 2 mL then KVO 1 mL/h, bolus 0.2 mL/10 s", program: { syringeId: "bd-plastipak-20", rateUlPerH: 10000, vtbiUl: 2000, kvoRateUlPerH: 1000, bolusUl: 200, bolusDurationS: 10 }, keys: KEY_NAMES },
]

export type Speed = 1 | 10 | "max"
export const SPEEDS: Speed[] = [1, 10, "max"]

/** Scenario-time step while the power is off (no firmware clock), as the vclock backend. */
const OFF_STEP_MS = 20
/** Wall time the pacing loop may spend running the VM before it lets the server answer. */
const SLICE_BUDGET_MS = 40
/** Backlog (virtual ms) after which the engine stops trying to catch up and says it is behind. */
const MAX_BACKLOG_MS = 1500
/** Wall time between status messages to the page. */
const STATUS_EVERY_MS = 100
/** Samples kept in the session's trace (it is only read for the latest one here). */
const TRACE_KEEP = 600
/** Smallest / largest bubble the page may inject (µL): the plant refuses <= 0; 5 mL is a syringe. */
export const BUBBLE_MAX_UL = 5000

/** One plotted point per firmware status line (every 100 ms of firmware time). */
export interface PlotPoint {
    tS: number
    pressureMmHg: number
    flowUlPerH: number
}

/** What the page shows; everything about the pump comes from the firmware's lines. */
export interface SimStatus {
    programId: string
    speed: Speed
    powered: boolean
    ready: boolean
    stopped?: string
    behindS: number
    tS: number
    /** From the firmware's status line. */
    state: string
    alarm: string
    latched: string[]
    infusedUl: number
    bolusUl: number
    motor: boolean
    alarmLed: boolean
    /** Plant truth (no sensor sees these). */
    deliveredUl: number
    pressureMmHg: number
    flowUlPerH: number
    plungerMm: number
    pusherMm: number
    syringe: { id: string; nominalMl: number; travelMm: number }
    /** Disturbances the page has applied (so its toggles show the plant's state). */
    plant: { occluded: boolean; upstreamOccluded: boolean; doorOpen: boolean; plungerEngaged: boolean; stalled: boolean; batteryMv: number; pressureUnplugged: boolean; faults: Record<string, string> }
}

export type EngineMessage =
    | { type: "status"; status: SimStatus; points: PlotPoint[] }
    | { type: "event"; line: string }
    | { type: "hil"; line: string }
    | { type: "console"; line: string }
    | { type: "beep"; hz: number; ms: number }
    | { type: "screen"; inverted: boolean; lines: string[] }
    | { type: "reset"; status: SimStatus }

/** A request from the page; validated here (anything else is refused with a reason). */
export type Command =
    | { op: "key"; key: string }
    | { op: "occlusion" | "upstreamOcclusion"; closed: boolean }
    | { op: "bubble"; volumeUl: number }
    | { op: "door"; open: boolean }
    | { op: "plunger"; engaged: boolean }
    | { op: "stall"; stalled: boolean }
    | { op: "battery"; mv: number }
    | { op: "sensor"; sensor: string; mode: string }
    | { op: "power"; on: boolean }
    | { op: "speed"; speed: Speed }
    | { op: "program"; id: string }

/** The syringe the plant holds: the program's, or on the panel the one its flows load. */
function syringeOf(p: InfusionProgram | null): string {
    return p ? p.syringeId : PANEL_SYRINGE_ID
}

const settle = () => new Promise<void>(res => setImmediate(res))
const sleep = (ms: number) => new Promise<void>(res => setTimeout(res, ms))

/** Parses `beep=<Hz>/<ms>` of a HIL line's fields; null when absent or not two positive numbers. */
export function parseBeep(f: Record<string, string>): { hz: number; ms: number } | null {
    if (f.beep === undefined) return null
    const [hz, ms] = f.beep.split("/").map(Number)
    return Number.isFinite(hz) && Number.isFinite(ms) && hz > 0 && ms > 0 ? { hz, ms } : null
}

function bool(v: unknown, what: string): boolean {
    if (typeof v !== "boolean") throw new Error(what + " must be true or false")
    return v
}

/** Turns a page request into a scenario event (or a speed/program change); throws with the reason
 *  for anything malformed, so a bad request never reaches the plant. */
export function toEvent(c: Command): ScenarioEvent | null {
    const atS = 0
    switch (c.op) {
        case "key":
            if (KEY_NAMES.indexOf(c.key) < 0) throw new Error("unknown key '" + c.key + "' (keys: " + KEY_NAMES.join(", ") + ")")
            return { atS, do: "key", key: c.key as "start" }
        case "occlusion":
        case "upstreamOcclusion":
            return { atS, do: c.op, closed: bool(c.closed, "closed") }
        case "bubble":
            if (typeof c.volumeUl !== "number" || !(c.volumeUl > 0 && c.volumeUl <= BUBBLE_MAX_UL)) throw new Error("bubble volume must be a number of µL in (0, " + BUBBLE_MAX_UL + "]")
            return { atS, do: "bubble", volumeUl: c.volumeUl }
        case "door":
            return { atS, do: "door", open: bool(c.open, "open") }
        case "plunger":
            return { atS, do: "plunger", engaged: bool(c.engaged, "engaged") }
        case "stall":
            return { atS, do: "stall", stalled: bool(c.stalled, "stalled") }
        case "battery":
            if (typeof c.mv !== "number" || !(c.mv >= 0 && c.mv <= 6000)) throw new Error("battery must be a number of mV in 0..6000")
            return { atS, do: "battery", mv: Math.round(c.mv) }
        case "sensor": {
            if (c.mode === "unplugged" || (c.sensor === "pressure" && c.mode === "plugged")) {
                // Only the pressure sensor's service can leave the rig's bus (SimRig.setPressurePlugged).
                if (c.sensor !== "pressure") throw new Error("only the pressure sensor can be unplugged from the rig's bus; use an open wire for " + c.sensor)
                return { atS, do: "sensor", fault: c.mode === "unplugged" ? "unplugged" : "none" }
            }
            if ((SENSOR_NAMES as string[]).indexOf(c.sensor) < 0) throw new Error("unknown sensor '" + c.sensor + "' (sensors: " + SENSOR_NAMES.join(", ") + ")")
            if (["none", "open", "short", "stuck", "noisy"].indexOf(c.mode) < 0) throw new Error("unknown sensor fault '" + c.mode + "' (none, open, short, stuck, noisy, unplugged)")
            return { atS, do: "sensorFault", sensor: c.sensor as "air", mode: c.mode as "open" }
        }
        case "power":
            return { atS, do: "power", on: bool(c.on, "on") }
        case "speed":
        case "program":
            return null
        default:
            throw new Error("unknown request '" + String((c as { op?: unknown }).op) + "'")
    }
}

export interface EngineOptions {
    programId?: string
    speed?: Speed
    log?: (line: string) => void
}

export class SimEngine {
    private clock = new VirtualClock()
    private plant!: Plant & PlantModel
    private session!: HilSession
    private rig!: SimRig
    private vm: VmNode | undefined
    private flash = { data: new Uint8Array(0) }
    private boots = 0
    private offTimer: number | undefined
    private fault: string | undefined
    private stoppedWhy: string | undefined
    private closed = false
    private running: Promise<void> | undefined
    private listeners: ((m: EngineMessage) => void)[] = []
    private points: PlotPoint[] = []
    private wallBase = 0
    private virtBase = 0
    private behindS = 0
    private motor = false
    private alarmLed = false
    /** The last front-panel frame, for a page that connects after it was drawn. */
    private lastScreen: { inverted: boolean; lines: string[] } | null = null
    private applied = { occluded: false, upstreamOccluded: false, doorOpen: false, plungerEngaged: true, stalled: false, batteryMv: 0, pressureUnplugged: false, faults: {} as Record<string, string> }
    private busy: Promise<void> = Promise.resolve()
    programId: string
    speed: Speed
    private log: (line: string) => void

    constructor(o: EngineOptions = {}) {
        this.programId = o.programId ?? PROGRAMS[0].id
        if (!PROGRAMS.some(p => p.id === this.programId)) throw new Error("unknown program '" + this.programId + "' (programs: " + PROGRAMS.map(p => p.id).join(", ") + ")")
        this.speed = o.speed ?? 1
        if (SPEEDS.indexOf(this.speed) < 0) throw new Error("speed must be one of " + SPEEDS.join(", "))
        this.log = o.log ?? (() => undefined)
    }

    private images = new Map<boolean, Image>()

    /** Builds (or takes from the cache) the image the current program needs: the front-panel one,
     *  or the one with every fixed program. */
    private async imageFor(panel: boolean): Promise<Image> {
        let image = this.images.get(panel)
        if (image) return image
        const scenarios = PROGRAMS.filter(p => (p.program === null) === panel).map(p => ({ name: "web-" + p.id, program: p.program, panel }) as Scenario)
        image = await buildImage(scenarios, this.log)
        this.log("sim:web: " + (panel ? "front-panel " : "") + "HIL image " + (image.cached ? "from the cache" : "built in " + image.buildS.toFixed(1) + " s") + " (" + image.bytecode.length + " B)")
        this.images.set(panel, image)
        return image
    }

    async start() {
        await this.boot()
    }

    onMessage(fn: (m: EngineMessage) => void) {
        this.listeners.push(fn)
        return () => {
            this.listeners = this.listeners.filter(f => f !== fn)
        }
    }

    private emit(m: EngineMessage) {
        for (const f of this.listeners) f(m)
    }

    private program() {
        return PROGRAMS.find(p => p.id === this.programId)!
    }

    /** A fresh pump: new clock, bus, plant, session and non-volatile memory, first boot. */
    private async boot() {
        const prog = this.program()
        const image = await this.imageFor(prog.program === null)
        const deviceId = prog.program === null ? image.deviceIds.get("web-" + prog.id) : image.deviceIdFor(prog.program)
        if (!deviceId) throw new Error("image lacks program " + prog.id)
        this.clock = new VirtualClock()
        this.flash = { data: new Uint8Array(0) }
        this.fault = undefined
        this.stoppedWhy = undefined
        this.points = []
        this.motor = false
        this.alarmLed = false
        this.lastScreen = null
        this.plant = createPlant({ syringeId: syringeOf(prog.program), seed: 1 })
        this.applied = { occluded: false, upstreamOccluded: false, doorOpen: false, plungerEngaged: true, stalled: false, batteryMv: this.plant.sensors().batteryMv, pressureUnplugged: false, faults: {} }
        const clock = this.clock
        const bridge = jd.createProxyBridge((data: Uint8Array) => {
            const f = new Uint8Array(data)
            clock.setTimeout(() => this.vm?.receive(f), 0)
        })
        this.rig = new SimRig()
        const rig = this.rig
        const sc = { name: "web", description: "", backend: "vclock", durationS: Infinity, program: prog.program, panel: prog.program === null, events: [], expect: [] } as Scenario
        const bootVm = () => {
            const node = new VmNode({
                clock,
                bytecode: image.bytecode,
                deviceId,
                seed: 1 + this.boots++,
                flash: this.flash,
                chipFactor: 0,
                onLine: l => this.onLine(l),
                onFrame: f => bridge.receiveFrameOrPacket(f),
                onFault: why => {
                    if (this.session.powered) this.fault = why
                },
            })
            this.vm = node
            node.boot().catch(e => {
                this.fault = "VM boot failed: " + (e as Error).message
            })
        }
        this.session = new HilSession(
            sc,
            this.plant,
            {
                update: p => rig.update(p.sensors()),
                press: (key, holdMs) => rig.press(key, holdMs),
                setPressurePlugged: p => rig.setPressurePlugged(p),
                setSilent: (n, s) => rig.setSilent(n, s),
                powerOff: () => {
                    this.vm?.stop()
                    this.vm = undefined
                    this.motor = false
                    this.alarmLed = false
                    this.offTimer = clock.setInterval(() => this.session.offTick(OFF_STEP_MS / 1000), OFF_STEP_MS)
                },
                powerOn: () => {
                    if (this.offTimer !== undefined) clock.clearInterval(this.offTimer)
                    this.offTimer = undefined
                    bootVm()
                },
            },
            l => this.log(l),
        )
        await rig.connectBridge(bridge, clock)
        rig.setPressurePlugged(true)
        rig.update(this.plant.sensors())
        bootVm()
        this.rebase()
        this.emit({ type: "reset", status: this.status() })
        if (!this.running) this.running = this.loop()
    }

    private rebase() {
        this.wallBase = performance.now()
        this.virtBase = this.clock.nowMs
    }

    private onLine(l: string) {
        const e = l.indexOf("vclock-error=")
        if (e >= 0) this.fault = l.slice(e + 13)
        this.session.onLine(l)
        if (!this.session.powered) return
        // eslint-disable-next-line no-control-regex
        const clean = l.replace(/\x1b\[[0-9;]*m/g, "").replace(/^\s*(WASM)?> /, "").trim()
        if (clean.startsWith("EVENT ")) {
            this.emit({ type: "event", line: clean })
            return
        }
        const panel = parsePanelLine(clean)
        if (panel) {
            this.lastScreen = panel
            this.emit({ type: "screen", ...panel })
            return
        }
        const f = parseHilLine(clean)
        if (!f) {
            // Other VM output (exceptions, `devs: OOM ...`, PANIC, dmesg): the page's console box.
            if (clean.length > 0) this.emit({ type: "console", line: clean })
            return
        }
        if (f.motor !== undefined) this.motor = f.motor === "1"
        if (f.alarmLed !== undefined) this.alarmLed = f.alarmLed === "1"
        const beep = parseBeep(f)
        if (beep) this.emit({ type: "beep", ...beep })
        if (f.state !== undefined && this.session.ready) {
            this.points.push({ tS: this.session.scenT, pressureMmHg: this.plant.truth().linePressureMmHg, flowUlPerH: this.plant.trueFlowUlPerH() })
            const s = this.session.trace.samples
            if (s.length > TRACE_KEEP * 2) s.splice(0, s.length - TRACE_KEEP)
        }
        // Keys, program, motor, roles: the event log. The 100 ms status and per-tick step lines are
        // the page's numbers and plots; beep and alarmLed its tone and light.
        if (f.state === undefined && f.steps === undefined && f.beep === undefined && f.alarmLed === undefined) this.emit({ type: "hil", line: clean })
    }

    /** The front panel's last frame since this boot (null before the first, or without a panel). */
    screen(): { inverted: boolean; lines: string[] } | null {
        return this.lastScreen
    }

    status(): SimStatus {
        const s = this.session.trace.samples
        const last = s[s.length - 1]
        const prog = this.program()
        const syr = findSyringe(syringeOf(prog.program))
        const tr = this.plant.truth()
        return {
            programId: this.programId,
            speed: this.speed,
            powered: this.session.powered,
            ready: this.session.ready,
            stopped: this.stoppedWhy,
            behindS: this.behindS,
            tS: this.session.scenT,
            // Until the firmware has its program and every rig role bound (HilSession.ready) its
            // status lines do not move the plant: shown as booting, with the roles still missing.
            state: !this.session.powered ? "power off" : !this.session.ready ? "booting (roles not bound: " + (ROLES.filter(r => !this.session.bound.has(r)).join(", ") || "none") + ")" : last ? last.state : "booting",
            alarm: this.session.powered && this.session.ready && last ? last.alarm : "",
            latched: this.session.powered && this.session.ready && last ? last.latched ?? [] : [],
            infusedUl: last ? last.infusedUl : 0,
            bolusUl: last ? last.bolusUl : 0,
            motor: this.motor,
            alarmLed: this.alarmLed,
            deliveredUl: tr.deliveredUl,
            pressureMmHg: tr.linePressureMmHg,
            flowUlPerH: this.plant.trueFlowUlPerH(),
            plungerMm: tr.displacedUl / this.plant.areaMm2,
            pusherMm: this.plant.pusherPositionUm() / 1000,
            syringe: { id: syr.id, nominalMl: syr.nominalMl, travelMm: syr.plungerTravelUm / 1000 },
            plant: { ...this.applied, faults: { ...this.applied.faults } },
        }
    }

    /** Applies one page request; throws with the reason if it is malformed. Serialised with the
     *  pacing loop's own work, so a request never lands inside a VM slice. */
    async command(c: Command): Promise<void> {
        if (!c || typeof c !== "object") throw new Error("a request must be a JSON object")
        if (c.op === "speed") {
            if (SPEEDS.indexOf(c.speed) < 0) throw new Error("speed must be one of " + SPEEDS.join(", "))
            this.speed = c.speed
            this.rebase()
            return
        }
        if (c.op === "program") {
            if (!PROGRAMS.some(p => p.id === c.id)) throw new Error("unknown program '" + c.id + "'")
            this.programId = c.id
            await this.run(() => this.restart())
            return
        }
        const e = toEvent(c)!
        await this.run(async () => {
            if (e.do === "power" && e.on && this.stoppedWhy) {
                // Restoring the power after a firmware stop is a fresh boot with the flash kept.
                this.stoppedWhy = undefined
                this.session.panic = undefined
            }
            await this.session.applyNow(e)
            // Plugging the pressure sensor back: the session only knows how to pull it.
            if (e.do === "sensor" && e.fault === "none") this.rig.setPressurePlugged(true)
            if (e.do === "power") this.emit({ type: "hil", line: e.on ? "power restored by the page: the firmware boots with its memory kept" : "power cut by the page: the firmware stops at once" })
            this.track(e)
        })
    }

    private track(e: ScenarioEvent) {
        const a = this.applied
        if (e.do === "occlusion") a.occluded = e.closed
        else if (e.do === "upstreamOcclusion") a.upstreamOccluded = e.closed
        else if (e.do === "door") a.doorOpen = e.open
        else if (e.do === "plunger") a.plungerEngaged = e.engaged
        else if (e.do === "stall") a.stalled = e.stalled
        else if (e.do === "battery") a.batteryMv = e.mv
        else if (e.do === "sensor") a.pressureUnplugged = e.fault === "unplugged"
        else if (e.do === "sensorFault") {
            if (e.mode === "none") delete a.faults[e.sensor]
            else a.faults[e.sensor] = e.mode
        }
    }

    private run(fn: () => Promise<void>): Promise<void> {
        const p = this.busy.then(fn)
        this.busy = p.catch((): void => undefined)
        return p
    }

    private async restart() {
        this.vm?.stop()
        this.vm = undefined
        await this.rig.close().catch((): void => undefined)
        await this.boot()
    }

    /** Paces the virtual clock to the wall clock × speed; runs until close(). */
    private async loop() {
        let lastEmit = 0
        while (!this.closed) {
            await this.run(() => this.slice())
            if (performance.now() - lastEmit >= STATUS_EVERY_MS) {
                lastEmit = performance.now()
                const points = this.points
                this.points = []
                this.emit({ type: "status", status: this.status(), points })
            }
            await sleep(this.speed === "max" ? 1 : 20)
        }
    }

    private async slice() {
        const clock = this.clock
        const t0 = performance.now()
        const target = this.speed === "max" ? Infinity : this.virtBase + (t0 - this.wallBase) * this.speed
        for (;;) {
            if (this.fault) {
                this.stopFirmware(this.fault)
                this.fault = undefined
            }
            const next = clock.nextDueMs()
            if (next === undefined || next > target) {
                if (target !== Infinity) clock.advanceTo(target)
                this.behindS = 0
                return
            }
            clock.advanceTo(next)
            clock.runDue()
            await settle()
            if (performance.now() - t0 > SLICE_BUDGET_MS) break
        }
        if (target !== Infinity && target - clock.nowMs > MAX_BACKLOG_MS) {
            // The host cannot keep this pace: drop the backlog instead of racing to catch up.
            this.behindS += (target - clock.nowMs) / 1000
            this.rebase()
        }
    }

    /** The firmware panicked or the VM failed: it stays stopped (as a crashed pump) until the
     *  page cycles the power or loads a program. The plant keeps running with the motor off. */
    private stopFirmware(why: string) {
        if (this.stoppedWhy) return
        this.stoppedWhy = why + (this.session.panic ? " — " + this.session.panic : "")
        this.log("sim:web: firmware stopped: " + this.stoppedWhy)
        this.emit({ type: "hil", line: "firmware stopped: " + this.stoppedWhy })
        this.session.powered = true
        void this.session.applyNow({ atS: 0, do: "power", on: false })
    }

    async close() {
        this.closed = true
        await this.running?.catch((): void => undefined)
        this.vm?.stop()
        this.vm = undefined
        await this.rig?.close().catch((): void => undefined)
    }
}

export { KEY_NAMES, SENSOR_NAMES }
