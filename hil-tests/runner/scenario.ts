// Scenario files: types, loading and validation against scenario.schema.json (ajv). A file that
// does not validate is refused with every error named; nothing is guessed.

import { readFileSync } from "node:fs"
import { basename } from "node:path"
import { createRequire } from "node:module"
import type { InfusionProgram } from "../../src/core/program"
import schema from "./scenario.schema.json" with { type: "json" }

// ajv ships CommonJS; createRequire keeps this working under tsx and vitest alike.
const require = createRequire(import.meta.url)
const Ajv = require("ajv") as typeof import("ajv").default

export type Backend = "sim" | "vclock" | "host"
export type KeyName = "start" | "pause" | "stop" | "bolus" | "ack"
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
    /** VM heap census at scenario time atS (vclock only; live data after a collection): used
     *  bytes at most maxUsedBytes, largest free block at least minFreeBlockBytes. */
    | { check: "heap"; atS: number; maxUsedBytes: number; minFreeBlockBytes?: number; why?: string }

export interface Scenario {
    name: string
    description: string
    backend: Backend
    durationS: number
    /** Run in `npm test` (test:hil passes --ci). */
    ci?: boolean
    program: InfusionProgram
    plant?: Record<string, unknown>
    events: ScenarioEvent[]
    expect: Expectation[]
    /** Path it was loaded from (not part of the file). */
    file?: string
}

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
    const stem = basename(file).replace(/\.json$/, "")
    if (s.name !== stem) throw new Error(file + ": name '" + s.name + "' must equal the file name '" + stem + "'")
    for (const e of s.events) {
        if (e.atS > s.durationS) throw new Error(file + ": event '" + e.do + "' at " + e.atS + " s is after durationS " + s.durationS)
    }
    s.file = file
    return s
}

export function loadScenario(file: string): Scenario {
    return parseScenario(readFileSync(file, "utf8"), file)
}
