// One scenario run driven by the firmware's HIL lines, shared by the two backends that run the
// real bytecode (sim: `devs run` on wall time; vclock: in-process VM on a virtual clock). The
// firmware's clock is the scenario's clock: each line advances the plant to its `t` with the
// steps fired since the previous line, pushes the new sensor readings to the rig and applies the
// scenario events that have come due. While the power is off there is no firmware clock: the
// backend advances scenario time itself (offTick).

import type { Plant } from "../plant/api"
import { applyToPlant, describe } from "./drive"
import type { Sample, Trace } from "./evaluate"
import { KEY_GAP_S, type Scenario, type ScenarioEvent } from "./scenario"

export const ROLES = ["pressure", "air", "door", "plunger", "battery", "position", "keypad"]

export interface LogSink {
    (line: string): void
}

/** What a backend provides: the rig on its bus, and the firmware's power. */
export interface SessionRig {
    update(plant: Plant): void
    /** Presses `key` for holdMs (default a short press). */
    press(key: string, holdMs?: number): Promise<void>
    setPressurePlugged(plugged: boolean): void
    /** Keep a sensor's service bound but withhold its reports (only where the capability table
     *  lists sensorSilent for the backend). */
    setSilent?(name: string, silent: boolean): void
    /** Cut the power: the firmware stops at once, no shutdown code runs. */
    powerOff(): void
    /** Restore the power: a fresh boot of the same bytecode with the same non-volatile memory. */
    powerOn(): void
}

/** Parses `HIL t=123 a=b c=d` (ANSI colours and the `WASM> ` or `> ` prefix removed) into fields. */
export function parseHilLine(raw: string): Record<string, string> | null {
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\x1b\[[0-9;]*m/g, "").replace(/^\s*(WASM)?> /, "")
    if (!line.startsWith("HIL ")) return null
    const out: Record<string, string> = {}
    const body = line.slice(4)
    const reason = body.indexOf(" reason=")
    const head = reason >= 0 ? body.slice(0, reason) : body
    for (const kv of head.split(" ")) {
        const i = kv.indexOf("=")
        if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1)
    }
    if (reason >= 0) out.reason = body.slice(reason + 8)
    return out
}

/** Parses the console display's frame line `PANEL inv=0 |row0|row1|...|` (src/hal/panelDisplay.ts). */
export function parsePanelLine(raw: string): { inverted: boolean; lines: string[] } | null {
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\x1b\[[0-9;]*m/g, "").replace(/^\s*(WASM)?> /, "").replace(/\s+$/, "")
    const m = /^PANEL inv=([01]) \|(.*)\|$/.exec(line)
    return m ? { inverted: m[1] === "1", lines: m[2].split("|") } : null
}

/** The status line's `latched=A,B` (or `-`) as a list; undefined for firmware without it. */
export function parseLatched(v: string | undefined): string[] | undefined {
    if (v === undefined) return undefined
    return v === "-" || v === "" ? [] : v.split(",")
}

export class HilSession {
    /** Forward microsteps since the last status line. */
    private fwdSinceSample = 0
    readonly trace: Trace = { samples: [], program: { ok: false, reason: "no program line seen" }, restarts: [], keys: [] }
    /** Scenario time reached (s); 0 = firmware ready with the program and every role bound. */
    scenT = 0
    ready = false
    powered = true
    lastVmT = 0
    bound = new Set<string>()
    private events: ScenarioEvent[]
    private nextEvent = 0
    private programSeen = false
    private vmT0 = 0
    private offsetS = 0
    private plantT = 0
    private pendingSteps = 0
    private motorOn = false
    private infusedBefore = 0
    private awaitingRestartSample = false
    /** Seconds every later event is shifted by: how far finished keyUntil events ran past the next
     *  event's time. */
    private delayS = 0
    /** The keyUntil in progress: later events wait for it. */
    private until: { e: Extract<ScenarioEvent, { do: "keyUntil" }>; startS: number; presses: number; nextS: number } | undefined

    constructor(
        readonly sc: Scenario,
        readonly plant: Plant,
        private rig: SessionRig,
        private log: LogSink,
        private verbose = false,
    ) {
        this.events = [...sc.events].sort((a, b) => a.atS - b.atS)
        // The drug library refused the selection on the host: the firmware got no program.
        if (sc.library && sc.library.refusal) this.trace.program = { ok: false, reason: sc.library.refusal }
    }

    private advanceTo(tS: number) {
        if (tS <= this.plantT) return
        this.plant.advance((tS - this.plantT) * 1000, { steps: this.pendingSteps, motorEnabled: this.motorOn })
        this.pendingSteps = 0
        this.plantT = tS
        this.rig.update(this.plant)
    }

    /** Applies every event due at the current scenario time. */
    async applyDue() {
        if (this.until && !(await this.pollUntil())) return
        while (this.nextEvent < this.events.length && this.events[this.nextEvent].atS + this.delayS <= this.scenT) {
            const e = this.events[this.nextEvent++]
            this.log("[" + this.sc.name + "] t=" + this.scenT.toFixed(2) + " apply " + describe(e))
            await this.applyEvent(e)
            if (this.until && !(await this.pollUntil())) return
        }
    }

    /** Advances the keyUntil in progress; true once it is over (text shown, or presses used up). */
    private async pollUntil(): Promise<boolean> {
        const u = this.until!
        const screens = this.trace.screens ?? []
        const last = screens[screens.length - 1]
        const done = last !== undefined && last.text.indexOf(u.e.screenContains) >= 0
        if (done || u.presses >= u.e.maxPresses) {
            if (!done) (this.trace.keyUntilFailures ??= []).push("'" + u.e.screenContains + "' not shown after " + u.presses + " presses of " + u.e.key + " (from " + u.startS.toFixed(2) + " s)")
            this.log("[" + this.sc.name + "] t=" + this.scenT.toFixed(2) + " keyUntil '" + u.e.screenContains + "' " + (done ? "shown" : "NOT shown") + " after " + u.presses + " presses")
            // Later events keep their times when this ended before the next one was due; if it ran
            // past, they all move by the overrun (keeping their spacing).
            const next = this.events[this.nextEvent]
            if (next && next.atS + this.delayS < this.scenT) this.delayS = this.scenT - next.atS
            this.until = undefined
            return true
        }
        if (this.scenT >= u.nextS) {
            u.presses++
            u.nextS = this.scenT + (u.e.gapS ?? KEY_GAP_S)
            await this.rig.press(u.e.key)
        }
        return false
    }

    /** Applies one event now, whatever its atS (an interactive driver: the web simulator's page). */
    async applyNow(e: ScenarioEvent) {
        this.log("[" + this.sc.name + "] t=" + this.scenT.toFixed(2) + " apply " + describe(e))
        await this.applyEvent(e)
    }

    private async applyEvent(e: ScenarioEvent) {
        if (applyToPlant(this.plant, e)) {
            this.rig.update(this.plant)
            return
        }
        if (e.do === "key") await this.rig.press(e.key)
        else if (e.do === "hold") await this.rig.press(e.key, e.forS * 1000)
        else if (e.do === "keyUntil") {
            this.until = { e, startS: this.scenT, presses: 0, nextS: this.scenT }
        }
        else if (e.do === "sensor" && e.fault === "unplugged") this.rig.setPressurePlugged(false)
        else if (e.do === "sensorSilent") {
            if (!this.rig.setSilent) throw new Error("this backend cannot silence a sensor (capabilities.ts should have refused it)")
            this.rig.setSilent(e.sensor, e.silent)
        }
        else if (e.do === "power" && !e.on && this.powered) this.powerOff()
        else if (e.do === "power" && e.on && !this.powered) this.powerOn()
    }

    private powerOff() {
        this.powered = false
        this.motorOn = false
        const last = this.trace.samples[this.trace.samples.length - 1]
        this.infusedBefore = last ? last.infusedUl : 0
        this.rig.powerOff()
    }

    private powerOn() {
        this.powered = true
        this.offsetS = this.scenT
        this.awaitingRestartSample = true
        this.ready = false
        this.programSeen = false
        this.bound = new Set()
        this.rig.powerOn()
    }

    /** Power off: no firmware clock; the backend moves scenario time by `dtS`. */
    offTick(dtS: number) {
        this.scenT += dtS
        this.advanceTo(this.scenT)
        void this.applyDue()
    }

    /** Set when the firmware panicked (the VM prints `PANIC <code>`; `devs run` then restarts
     *  the program, which would otherwise look like a quiet power cycle). */
    panic: string | undefined

    /** One line of firmware output. */
    onLine(raw: string) {
        if (this.verbose) this.log("[" + this.sc.name + "] " + raw)
        // eslint-disable-next-line no-control-regex
        const p = /^PANIC (\d+)/.exec(raw.replace(/\x1b\[[0-9;]*m/g, "").trim())
        if (p && this.powered && !this.panic) this.panic = "firmware panicked (VM panic " + p[1] + ") at firmware t=" + this.lastVmT + " ms"
        const frame = parsePanelLine(raw)
        if (frame && this.powered) {
            ;(this.trace.screens ??= []).push({ tS: this.scenT, text: frame.lines.join("\n"), inverted: frame.inverted })
            return
        }
        const f = parseHilLine(raw)
        if (!f || !this.powered) return
        const t = Number(f.t)
        if (!Number.isFinite(t)) return
        this.lastVmT = t
        if (f.role) {
            if (f.bound === "1") this.bound.add(f.role)
            else this.bound.delete(f.role)
        }
        if (f.program) {
            this.programSeen = true
            if (!(this.sc.library && this.sc.library.refusal)) this.trace.program = { ok: f.program === "ok" || f.program === "panel", reason: f.reason ?? "" }
        }
        if (!this.ready) {
            if (this.programSeen && ROLES.every(r => this.bound.has(r))) {
                this.ready = true
                this.vmT0 = t
                this.log("[" + this.sc.name + "] firmware ready at vm t=" + t + " ms (scenario t=" + this.offsetS.toFixed(2) + " s)")
            }
            return
        }
        this.scenT = this.offsetS + (t - this.vmT0) / 1000
        // `key=<name> ok=1` or `key=<name> ok=0 reason=...`: the pump's answer to a key press.
        if (f.key) this.trace.keys!.push({ tS: this.scenT, key: f.key, ok: f.ok === "1", reason: f.reason ?? "" })
        // A steps= line reports shaft movement that already happened (the in-VM controller
        // model, polled every 20 ms): apply it over the interval ending at this line.
        if (f.steps) {
            this.pendingSteps += Number(f.steps)
            if (Number(f.steps) > 0) this.fwdSinceSample += Number(f.steps)
        }
        this.advanceTo(this.scenT)
        if (f.motor) this.motorOn = f.motor === "1"
        if (f.state) {
            const tr = this.plant.truth()
            const s: Sample = {
                tS: this.scenT,
                state: f.state,
                alarm: f.alarm === "-" ? "" : f.alarm,
                infusedUl: Number(f.infused),
                bolusUl: Number(f.bolus),
                deliveredUl: tr.deliveredUl,
                displacedUl: tr.displacedUl,
                pressureMmHg: tr.linePressureMmHg,
                latched: parseLatched(f.latched),
                fwdSteps: this.fwdSinceSample,
                motorSteps: this.plant.motorSteps(),
            }
            this.fwdSinceSample = 0
            this.trace.samples.push(s)
            if (this.awaitingRestartSample) {
                this.awaitingRestartSample = false
                this.trace.restarts.push({ tS: this.scenT, state: s.state, infusedUl: s.infusedUl, infusedBeforeUl: this.infusedBefore })
            }
        }
        void this.applyDue()
    }
}
