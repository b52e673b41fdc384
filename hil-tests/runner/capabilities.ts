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
import { hasSetup } from "./libraryProgram"

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
    "stillAfterAlarm",
    "key",
    "noStepsBefore",
    "doseNeverAbove",
    "heap",
    "flow",
    "bolusGiven",
    "screen",
    "screenNever",
]

/** Front-panel features: only the vclock backend builds the HIL image with the panel. */
const PANEL_EVENTS = ["hold", "keyUntil"]
const PANEL_CHECKS = ["screen", "screenNever"]

/** How the scenario programs the pump: "program:library" (a drug-library selection, resolved on
 *  the host by the library code: libraryProgram.ts) and "program:setup" (calls after the load:
 *  loading dose, concentration, dose window, lockout, standby). */
export function programFeatures(sc: Scenario): string[] {
    const out: string[] = []
    if (sc.library) out.push("program:library")
    if (sc.library && hasSetup(sc.library.setup)) out.push("program:setup")
    if (sc.panel) out.push("program:panel")
    return out
}

const PROGRAM_FEATURES = ["program:library", "program:setup"]

export interface BackendCapabilities {
    events: string[]
    checks: string[]
    /** programFeatures() this backend can apply. */
    program: string[]
    /** Why the gaps exist (printed with a refusal). */
    notes: string
}

export const CAPABILITIES: Record<string, BackendCapabilities> = {
    // The firmware bytecode on a simulated bus: the plant, the keypad, process kill/restart with
    // the simulator's flash kept, and bus-level sensor removal (unplugged) or silence.
    sim: {
        events: ["key", "power", "sensor:unplugged", "tmcFault", ...PLANT_EVENTS, ...SENSOR_NAMES.map(s => "sensorSilent:" + s)],
        checks: ALL_CHECKS.filter(c => c !== "heap" && PANEL_CHECKS.indexOf(c) < 0),
        // The library is resolved on the host; the firmware gets its exact program, and the
        // setup calls are generated into the scenario's HIL entry (hilRun's setup argument).
        program: PROGRAM_FEATURES,
        notes: "sim applies every event (the VM's heap is only readable in-process: vclock); a drug-library program is resolved on the host and the firmware receives the library's exact program and setup",
    },
    // The firmware bytecode in the VM on a virtual clock (hil-tests/runner/vclock): the same
    // session as sim, but its rig has no way (yet) to silence a bound sensor.
    vclock: {
        events: ["key", "power", "sensor:unplugged", "tmcFault", ...PLANT_EVENTS, ...PANEL_EVENTS],
        checks: ALL_CHECKS,
        program: [...PROGRAM_FEATURES, "program:panel"],
        notes: "vclock applies every event except sensorSilent; a drug-library program is resolved on the host and the firmware receives the library's exact program and setup; front-panel scenarios run its HIL image with the panel",
    },
    // The core on a virtual clock: no bus (so no silent-but-bound sensor) and no in-VM motion
    // controller model. A power cycle runs the firmware's persistence layer on a virtual flash
    // (host.ts), so power and restart are applied: a real restore, not a fresh boot.
    host: {
        events: ["key", "power", "sensor:unplugged", ...PLANT_EVENTS],
        checks: ALL_CHECKS.filter(c => c !== "stillAfterAlarm" && c !== "heap" && PANEL_CHECKS.indexOf(c) < 0),
        program: PROGRAM_FEATURES,
        notes: "host has no VM heap (heap), no Jacdac bus (sensorSilent), no in-VM motion controller model (tmcFault, stillAfterAlarm) and no front panel (vclock runs the panel image)",
    },
    // A real board and the rig controller (docs/hil-rig.md, "Rig controller protocol"): only
    // what the bench has an actuator for, and no plant truth beyond the balance.
    board: {
        events: ["key", "occlusion", "bubble", "door", "plunger", "power", "sensor:disconnected", "sensor:none", "stall", "battery"],
        checks: ALL_CHECKS.filter(c => c !== "volume:displaced" && c !== "restart" && c !== "stillAfterAlarm" && c !== "key" && c !== "noStepsBefore" && c !== "heap" && PANEL_CHECKS.indexOf(c) < 0),
        // The board boots the program it was flashed with; the rig cannot hand it a library result.
        program: [],
        notes: "the bench has actuators for the rig-protocol commands only, measures delivery with the balance, and runs the program the board was flashed with (no drug-library selection)",
    },
}

/** Features of `sc` that `backend` cannot apply or check (empty: it can run). */
export function unsupportedFeatures(sc: Scenario, backend: string): string[] {
    const caps = CAPABILITIES[backend.split("!")[0]]
    if (!caps) return ["backend '" + backend + "' (no entry in hil-tests/runner/capabilities.ts)"]
    const out: string[] = []
    // A controller fault is injected into the in-VM TMC5160 model: a backend without it would skip it.
    if (sc.tmcFault && caps.events.indexOf("tmcFault") < 0) out.push("event tmcFault")
    for (const f of programFeatures(sc)) if (caps.program.indexOf(f) < 0) out.push(f)
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
