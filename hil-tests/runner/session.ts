// One scenario run driven by the firmware's HIL lines, shared by the two backends that run the
// real bytecode (sim: `devs run` on wall time; vclock: in-process VM on a virtual clock). The
// firmware's clock is the scenario's clock: each line advances the plant to its `t` with the
// steps fired since the previous line, pushes the new sensor readings to the rig and applies the
// scenario events that have come due. While the power is off there is no firmware clock: the
// backend advances scenario time itself (offTick).

import type { Plant } from "../plant/api"
import { applyToPlant, describe } from "./drive"
import type { Sample, Trace } from "./evaluate"
import type { Scenario, ScenarioEvent } from "./scenario"

export const ROLES = ["pressure", "air", "door", "plunger", "battery", "position", "keypad"]

export interface LogSink {
    (line: string): void
}

/** What a backend provides: the rig on its bus, and the firmware's power. */
export interface SessionRig {
    update(plant: Plant): void
    press(key: string): Promise<void>
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
        while (this.nextEvent < this.events.length && this.events[this.nextEvent].atS <= this.scenT) {
            const e = this.events[this.nextEvent++]
            this.log("[" + this.sc.name + "] t=" + this.scenT.toFixed(2) + " apply " + describe(e))
            await this.applyEvent(e)
        }
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
            if (!(this.sc.library && this.sc.library.refusal)) this.trace.program = { ok: f.program === "ok", reason: f.reason ?? "" }
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
