// What each backend can apply: ONE table. A scenario whose events or checks include anything its
// backend cannot apply is refused BEFORE it runs (a disturbance that is silently skipped tests
// nothing, and a check that cannot be measured would pass or fail for the wrong reason).
//
// A feature is an event's `do` (plus its detail where backends differ: the legacy pressure
// `sensor` fault, the sensor and mode of a `sensorFault`, the sensor of a `sensorSilent`) or a
// check's name (plus its source where backends differ). To add a backend, add one entry; to
// teach a backend a new event, add its feature string to that backend's list.

import { SENSOR_FAULT_MODES, SENSOR_NAMES } from "../plant/api"
import type { Expectation, Scenario, ScenarioEvent } from "./scenario"

export function eventFeature(e: ScenarioEvent): string {
    switch (e.do) {
        case "sensor":
            return "sensor:" + e.fault
        case "sensorFault":
            return "sensorFault:" + e.sensor + ":" + e.mode
        case "sensorSilent":
            return "sensorSilent:" + e.sensor
        default:
            return e.do
    }
}

export function checkFeature(c: Expectation): string {
    if (c.check === "volume" || c.check === "dose") return c.check + ":" + c.source
    return c.check
}

/** Every sensor wiring fault the plant models (hil-tests/plant/plant.ts applyWiringFaults). */
const PLANT_SENSOR_FAULTS: string[] = []
for (const s of SENSOR_NAMES) for (const m of SENSOR_FAULT_MODES) PLANT_SENSOR_FAULTS.push("sensorFault:" + s + ":" + m)

/** Disturbances the plant model applies itself (hil-tests/runner/drive.ts applyToPlant). */
const PLANT_EVENTS = [
    "occlusion",
    "upstreamOcclusion",
    "bubble",
    "door",
    "plunger",
    "stall",
    "battery",
    "sensor:none",
    "sensor:disconnected",
    "sensor:stuck",
    "sensor:shorted",
    ...PLANT_SENSOR_FAULTS,
]

const ALL_CHECKS = [
    "alarm",
    "alarmRaisedAfter",
    "alarmCount",
    "noAlarm",
    "volume:reported",
    "volume:delivered",
    "volume:displaced",
    "dose:reported",
    "dose:delivered",
    "state",
    "bolusMax",
    "programRefused",
    "noStepsWhileStopped",
    "restart",
    "heap",
]

export interface BackendCapabilities {
    events: string[]
    checks: string[]
    /** Why the gaps exist (printed with a refusal). */
    notes: string
}

export const CAPABILITIES: Record<string, BackendCapabilities> = {
    // The firmware bytecode on a simulated bus: the plant, the keypad, process kill/restart with
    // the simulator's flash kept, and bus-level sensor removal (unplugged) or silence.
    sim: {
        events: ["key", "power", "sensor:unplugged", ...PLANT_EVENTS, ...SENSOR_NAMES.map(s => "sensorSilent:" + s)],
        checks: ALL_CHECKS.filter(c => c !== "heap"),
        notes: "sim applies every event; the VM's heap is only readable in-process (vclock)",
    },
    // The firmware bytecode in the VM on a virtual clock (hil-tests/runner/vclock): the same
    // session as sim, but its rig has no way (yet) to silence a bound sensor.
    vclock: {
        events: ["key", "power", "sensor:unplugged", ...PLANT_EVENTS],
        checks: ALL_CHECKS,
        notes: "vclock applies every event except sensorSilent",
    },
    // The core on a virtual clock: no bus (so no silent-but-bound sensor) and no persistence
    // layer (a power cycle would be a fresh boot, not a restore: refused rather than faked).
    host: {
        events: ["key", "sensor:unplugged", ...PLANT_EVENTS],
        checks: ALL_CHECKS.filter(c => c !== "restart" && c !== "heap"),
        notes: "host has no VM heap (heap), no Jacdac bus (sensorSilent) and no persistence (power, restart)",
    },
    // A real board and the rig controller (docs/hil-rig.md, "Rig controller protocol"): only
    // what the bench has an actuator for, and no plant truth beyond the balance.
    board: {
        events: ["key", "occlusion", "bubble", "door", "plunger", "power", "sensor:disconnected", "sensor:none", "stall", "battery"],
        checks: ALL_CHECKS.filter(c => c !== "volume:displaced" && c !== "restart" && c !== "heap"),
        notes: "the bench has actuators for the rig-protocol commands only and measures delivery with the balance",
    },
}

/** Features of `sc` that `backend` cannot apply or check (empty: it can run). */
export function unsupportedFeatures(sc: Scenario, backend: string): string[] {
    const caps = CAPABILITIES[backend.split("!")[0]]
    if (!caps) return ["backend '" + backend + "' (no entry in hil-tests/runner/capabilities.ts)"]
    const out: string[] = []
    for (const e of sc.events) {
        const f = eventFeature(e)
        if (caps.events.indexOf(f) < 0 && out.indexOf("event " + f) < 0) out.push("event " + f)
    }
    for (const c of sc.expect) {
        const f = checkFeature(c)
        if (caps.checks.indexOf(f) < 0 && out.indexOf("check " + f) < 0) out.push("check " + f)
    }
    return out
}

/** Throws, naming every feature, if `backend` cannot apply all of `sc`. Call before any I/O. */
export function assertSupported(sc: Scenario, backend: string): void {
    const missing = unsupportedFeatures(sc, backend)
    if (missing.length === 0) return
    const caps = CAPABILITIES[backend]
    throw new Error(
        "refused before running: backend '" + backend + "' cannot apply " + missing.join(", ") + (caps ? " (" + caps.notes + ")" : ""),
    )
}
