// Scenario files: types, loading and validation against scenario.schema.json (ajv). A file that
// does not validate is refused with every error named; nothing is guessed.

import { readFileSync } from "node:fs"
import { basename } from "node:path"
import { createRequire } from "node:module"
import type { InfusionProgram } from "../../src/core/program"
import schema from "./scenario.schema.json" with { type: "json" }
import { LibrarySelection, PumpSetup, resolveLibraryProgram } from "./libraryProgram"

// ajv ships CommonJS; createRequire keeps this working under tsx and vitest alike.
const require = createRequire(import.meta.url)
const Ajv = require("ajv") as typeof import("ajv").default

export type Backend = "sim" | "vclock" | "host"
export type KeyName = "start" | "pause" | "stop" | "bolus" | "ack" | "up" | "down"
export type { SensorName, SensorFaultMode } from "../plant/api"
import type { SensorName, SensorFaultMode } from "../plant/api"

export type ScenarioEvent =
    | { atS: number; do: "key"; key: KeyName }
    | { atS: number; do: "occlusion" | "upstreamOcclusion"; closed: boolean }
    | { atS: number; do: "bubble"; volumeUl: number }
    | { atS: number; do: "door"; open: boolean }
    | { atS: number; do: "plunger"; engaged: boolean }
    | { atS: number; do: "power"; on: boolean }
    | { atS: number; do: "sensor"; fault: "none" | "disconnected" | "stuck" | "shorted" | "unplugged" }
    | { atS: number; do: "stall"; stalled: boolean }
    | { atS: number; do: "battery"; mv: number }
    /** A wiring fault on one sensor (plant): open, short, stuck, noisy (level), or none. */
    | { atS: number; do: "sensorFault"; sensor: SensorName; mode: SensorFaultMode; level?: number }
    /** The sensor's bus service stays bound but stops streaming (the adapter's 500 ms staleness rule). */
    | { atS: number; do: "sensorSilent"; sensor: SensorName; silent: boolean }
    /** Front panel: presses one after another, gapS apart (expanded into key events on load). */
    | { atS: number; do: "keys"; keys: KeyName[]; gapS?: number }
    /** Front panel: a key held down for forS (the panel's auto-repeat). */
    | { atS: number; do: "hold"; key: KeyName; forS: number }
    /** Front panel: press `key` once per gapS until a frame shows `screenContains`; later events
     *  wait for it (if it runs past the next one's time, all later events move by the overrun).
     *  Not shown after maxPresses: the scenario fails. */
    | { atS: number; do: "keyUntil"; key: KeyName; screenContains: string; maxPresses: number; gapS?: number }

export type Expectation =
    | { check: "alarm"; code: string; afterS: number; withinS: number; maxDeliveredAfterUl?: number; why?: string }
    | { check: "noAlarm"; untilS?: number; why?: string }
    | { check: "volume"; source: "reported" | "delivered" | "displaced"; atS?: number; expectedUl: number; tolerancePct: number; toleranceUl?: number; why?: string }
    | { check: "state"; atS: number; state: string; why?: string }
    | { check: "bolusMax"; ul: number; fromS: number; windowS: number; why?: string }
    | { check: "programRefused"; reasonContains?: string; why?: string }
    | { check: "restart"; state: string; infusedKeptUl?: number; why?: string }
    /** An alarm RAISED (a rising edge of its latch) at or after afterS, within withinS: an alarm
     *  still latched from an earlier cause does not count. */
    | { check: "alarmRaisedAfter"; code: string; afterS: number; withinS: number; why?: string }
    /** Number of rising edges of an alarm's latch in [fromS, untilS]: exact `count`, or min/max. */
    | { check: "alarmCount"; code: string; fromS?: number; untilS?: number; count?: number; min?: number; max?: number; why?: string }
    /** Forward microsteps commanded while any stopping alarm is latched: must be at most max (0). */
    | { check: "noStepsWhileStopped"; max?: number; why?: string }
    /** Dose in the drug's unit = volume x concentration (amount per mL in `unit`). */
    | { check: "dose"; source: "reported" | "delivered"; unit: string; concentrationPerMl: number; atS?: number; expected: number; tolerancePct: number; why?: string }
    /** The press of `key` at scenario time atS (the first press of that key at or after atS) was
     *  accepted (true) or refused (false) by the pump, with a reason containing reasonContains. */
    | { check: "key"; key: KeyName; atS: number; accepted: boolean; reasonContains?: string; why?: string }
    /** No forward microstep commanded (and none fired on the plant's motor) up to untilS. */
    | { check: "noStepsBefore"; untilS: number; why?: string }
    /** The dose (volume x concentration) never above `max` at any sample up to untilS. */
    | { check: "doseNeverAbove"; source: "reported" | "delivered"; unit: string; concentrationPerMl: number; max: number; untilS?: number; why?: string }
    /** From the first sample showing alarm `code` to the end: the motor takes no step and the
     *  plunger (drive-spring relaxation only) moves at most maxDisplacedUl. */
    | { check: "stillAfterAlarm"; code: string; maxDisplacedUl: number; why?: string }
    /** VM heap census at scenario time atS (vclock only; live data after a collection): used
     *  bytes at most maxUsedBytes, largest free block at least minFreeBlockBytes. */
    | { check: "heap"; atS: number; maxUsedBytes: number; minFreeBlockBytes?: number; why?: string }
    /** A display frame shown in [fromS, untilS] contains the text (rows joined by "\n"). */
    | { check: "screen"; contains: string; fromS?: number; untilS?: number; inverted?: boolean; why?: string }
    /** No display frame shown in [fromS, untilS] contains the text. */
    | { check: "screenNever"; contains: string; fromS?: number; untilS?: number; why?: string }
    /** The largest bolus volume the pump reported is expectedUl (±tolerancePct). */
    | { check: "bolusGiven"; expectedUl: number; tolerancePct: number; why?: string }
    /** Mean delivered flow over forS from afterRunningS (default 10) after the first Running sample. */
    | { check: "flow"; afterRunningS?: number; forS: number; expectedUlPerH: number; tolerancePct: number; why?: string }

/** A controller fault injected into the in-VM TMC5160 model (sim and vclock backends). */
export interface TmcFaultSpec {
    fault: "miso-high" | "miso-low" | "ot" | "s2g" | "uv-reset" | "lost-steps"
    afterRunningS: number
}

export interface Scenario {
    name: string
    description: string
    backend: Backend
    durationS: number
    /** Run in `npm test` (test:hil passes --ci). */
    ci?: boolean
    /** Programmed through the firmware's front panel (its own image; `program` is null). */
    panel?: boolean
    /** The raw program the pump loads; null when a library selection was refused by the library
     *  (the pump then gets no program, as a refused programming leaves it). */
    program: InfusionProgram | null
    /** Set when the file programs through the drug library (libraryProgram.ts). */
    library?: {
        selection: LibrarySelection
        /** Calls made after loadProgram (loading dose, concentration, dose window, lockout, standby). */
        setup: PumpSetup
        /** The library's refusal; "" when it accepted the selection. */
        refusal: string
        summary: string
    }
    plant?: Record<string, unknown>
    tmcFault?: TmcFaultSpec
    events: ScenarioEvent[]
    expect: Expectation[]
    /** Path it was loaded from (not part of the file). */
    file?: string
}

/** Default spacing of front-panel presses: more than the panel's view guard (VIEW_GUARD_MS). */
export const KEY_GAP_S = 0.5

const ajv = new Ajv({ allErrors: true, strict: false })
const validate = ajv.compile(schema)

export function parseScenario(text: string, file: string): Scenario {
    let data: unknown
    try {
        data = JSON.parse(text)
    } catch (e) {
        throw new Error(file + ": not valid JSON: " + (e as Error).message)
    }
    if (!validate(data)) {
        const msgs = (validate.errors ?? []).map(e => (e.instancePath || "/") + " " + e.message)
        throw new Error(file + ": does not match the scenario schema: " + msgs.join("; "))
    }
    const s = data as Scenario
    const raw = (data as { program: Record<string, unknown> }).program
    if (raw !== null && typeof raw.drug === "string") {
        // Resolved here, by the library code, for every backend (see libraryProgram.ts).
        const selection = raw as unknown as LibrarySelection
        let r
        try {
            r = resolveLibraryProgram(selection)
        } catch (e) {
            throw new Error(file + ": program: " + (e as Error).message)
        }
        s.program = r.program
        s.library = { selection, setup: r.setup, refusal: r.refusal, summary: r.summary }
    }
    if (s.panel && s.program !== null) throw new Error(file + ": a panel scenario programs through the keys: 'program' must be null")
    if (s.panel && s.backend !== "vclock") throw new Error(file + ": a panel scenario runs on the vclock backend (its own image with the front panel)")
    // A key sequence is its presses, gapS apart (default 0.5 s: past the panel's 300 ms view guard).
    s.events = s.events.flatMap(e => (e.do === "keys" ? e.keys.map((k, i) => ({ atS: e.atS + i * (e.gapS ?? KEY_GAP_S), do: "key" as const, key: k })) : [e]))
    const stem = basename(file).replace(/\.json$/, "")
    if (s.name !== stem) throw new Error(file + ": name '" + s.name + "' must equal the file name '" + stem + "'")
    for (const e of s.events) {
        if (e.atS > s.durationS) throw new Error(file + ": event '" + e.do + "' at " + e.atS + " s is after durationS " + s.durationS)
    }
    if (s.tmcFault && s.backend !== "sim" && s.backend !== "vclock") throw new Error(file + ": tmcFault needs a bytecode backend, sim or vclock (the controller model runs in the firmware VM)")
    s.file = file
    return s
}

/** The syringe the plant holds in a front-panel run (the panel confirms the syringe loaded; the
 *  scenarios and the sample flows pick BD Plastipak 50 mL). */
export const PANEL_SYRINGE_ID = "bd-plastipak-50"

/** The syringe the plant models for this scenario (also when the library refused the program). */
export function scenarioSyringeId(sc: Scenario): string {
    if (sc.program) return sc.program.syringeId
    if (sc.panel) return PANEL_SYRINGE_ID
    return sc.library ? sc.library.selection.syringeId : "bd-plastipak-50"
}

export function loadScenario(file: string): Scenario {
    return parseScenario(readFileSync(file, "utf8"), file)
}
