// Opcode / heap ruler (run by tools/benchDevice.ts, one process per probe).
// The VM panics with InfiniteLoop when one fiber turn executes 128 * 1024 opcodes
// (DEVS_MAX_STEPS in runtime/devicescript/devs_internal.h; the counter is not exposed to
// TypeScript). A probe sets up a scenario in earlier turns, then in ONE turn runs the measured
// work followed by PROBE_SPIN iterations of a fixed loop. The tool bisects the largest spin that
// still completes: opcodes(work) = (spinMax(nothing) - spinMax(work)) * opcodes per spin
// iteration. Deterministic, the same on every host and with or without GC stress.
// PROBE_BALLAST_BYTES keeps a live buffer of that size through the scenario: the largest ballast
// that does not run out of memory bounds the scenario's live-heap high-water mark.

import * as ds from "@devicescript/core"
import { EventLog } from "../core/eventLog"
import { PumpController, REFERENCE_PUMP_CONFIG } from "../core/pump"
import { SAFETY_DEFAULTS, SafetyMonitor } from "../core/safety/monitor"
import { SensorSnapshot } from "../core/sensors"
import { runControlTick } from "../core/tick"
import { CONTROL_PERIOD_MS } from "../core/pump"
import { DurableCell } from "../core/log/durableCell"
import { MemoryPageStore } from "../core/log/pageStore"
import { HexKeyRing, ReplayCounters } from "../core/remote/auth"
import { RemoteEndpoint } from "../core/remote/endpoint"
import { createRemoteHmac, toBytes } from "../hal/deviceCrypto"
import { PROBE_BALLAST_BYTES, PROBE_SCENARIO, PROBE_SPIN } from "./probeParams"
import { initialUiState, PanelStatus, UI_TICK_MS, uiStep } from "../core/ui/panel"

const ballast = PROBE_BALLAST_BYTES > 0 ? Buffer.alloc(PROBE_BALLAST_BYTES) : null

function spin(n: number): number {
    let acc = 0
    for (let i = 0; i < n; i++) acc += i
    return acc
}

interface Rig {
    pump: PumpController
    monitor: SafetyMonitor
    snap: SensorSnapshot
    t: number
    steps: number
}

function newRig(): Rig {
    const log = new EventLog(64)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    const monitor = new SafetyMonitor(pump, log, SAFETY_DEFAULTS)
    pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: 1000, vtbiUl: 50000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 })
    pump.start(0)
    // 50 mmHg (410 + 2.112 * 50 counts), 3.9 V, plunger well inside a full 50 mL syringe.
    const snap: SensorSnapshot = { pressureAdc: 516, airInLine: false, doorOpen: false, plungerEngaged: true, batteryMv: 3900, firedSteps: 0, plungerPositionUm: 1000 }
    return { pump: pump, monitor: monitor, snap: snap, t: 0, steps: 0 }
}

function tick(r: Rig) {
    r.t += CONTROL_PERIOD_MS
    // Dither the pressure by 1 LSB as a live front end does (a frozen reading is "stuck").
    r.snap.pressureAdc += (r.t / CONTROL_PERIOD_MS) % 2 === 0 ? 1 : -1
    const a = runControlTick(r.t, r.snap, r.monitor, r.pump)
    r.steps += a.forwardSteps - a.reverseSteps
    r.snap.firedSteps = r.steps
}

/** Ticks `n` periods, yielding as the firmware loop does. */
async function run(r: Rig, n: number) {
    for (let i = 0; i < n; i++) {
        tick(r)
        if (i % 5 === 4) await ds.sleep(0)
    }
}

let work: () => void = () => {}
if (PROBE_SCENARIO === "steady5" || PROBE_SCENARIO === "monitor5" || PROBE_SCENARIO === "pump5") {
    // Five ticks at 1 mL/h after 32 s (filters full): the whole tick, or only its safety check or
    // only the pump's planning, to see where the opcodes go.
    const r = newRig()
    await run(r, 1600)
    work = () => {
        for (let i = 0; i < 5; i++) {
            if (PROBE_SCENARIO === "steady5") tick(r)
            else {
                r.t += CONTROL_PERIOD_MS
                r.snap.pressureAdc += (r.t / CONTROL_PERIOD_MS) % 2 === 0 ? 1 : -1
                if (PROBE_SCENARIO === "monitor5") r.monitor.check(r.t, r.snap)
                else r.pump.update(r.t)
            }
        }
    }
} else if (PROBE_SCENARIO === "quiet4") {
    // Four ticks at 1 mL/h that hold no once-a-second pass (the pass runs at tick 1601, see
    // steady1s): the every-period work alone.
    const r = newRig()
    await run(r, 1601)
    work = () => {
        for (let i = 0; i < 4; i++) tick(r)
    }
} else if (PROBE_SCENARIO === "steady10") {
    // Ten ticks at 1 mL/h after 32 s (the 31-sample once-a-second median full); their mean is the steady-state tick,
    // and ten consecutive ticks hold at most one once-a-second detector pass.
    const r = newRig()
    await run(r, 1600)
    work = () => {
        for (let i = 0; i < 10; i++) tick(r)
    }
} else if (PROBE_SCENARIO === "steady1s") {
    // The tick on which the once-a-second detectors run: they run when 1000 ms have passed since
    // the first tick (t = CONTROL_PERIOD_MS), i.e. at t = CONTROL_PERIOD_MS + k x 1000 ms. After
    // n ticks the probed tick is at (n + 1) x CONTROL_PERIOD_MS, so n x CONTROL_PERIOD_MS must be a
    // multiple of 1000 (1600 ticks: true at 20, 50 and 100 ms). The former 1600 - 1 never landed on it.
    const r = newRig()
    await run(r, 1600)
    work = () => tick(r)
} else if (PROBE_SCENARIO === "door") {
    // The door opens while delivering: DOOR_OPEN raised, logged, the pump stopped (alarm + log writes).
    const r = newRig()
    await run(r, 1600)
    r.snap.doorOpen = true
    work = () => tick(r)
} else if (PROBE_SCENARIO === "occl" || PROBE_SCENARIO === "backoff") {
    // Pressure jumps to 900 mmHg: find the tick that raises OCCL_DOWN on a twin rig, then
    // measure that tick (alarm + back-off start) or the next (a back-off tick).
    const twin = newRig()
    await run(twin, 800)
    let k = 0
    twin.snap.pressureAdc = 2311
    while (twin.pump.state() !== "Alarm" && k < 3000) {
        tick(twin)
        twin.snap.pressureAdc = 2311
        k++
        if (k % 5 === 0) await ds.sleep(0)
    }
    const r = newRig()
    await run(r, 800)
    const before = PROBE_SCENARIO === "occl" ? k - 1 : k
    for (let i = 0; i < before; i++) {
        r.snap.pressureAdc = 2311
        tick(r)
        r.snap.pressureAdc = 2311
        if (i % 5 === 4) await ds.sleep(0)
    }
    work = () => tick(r)
} else if (PROBE_SCENARIO === "panelRun") {
    // One front-panel turn's model work on the running screen, as src/firmware/panel.ts does it
    // every UI_TICK_MS: the pump's status, uiStep (a tick: the screen rendered) and the frame
    // text compared with the last one. The display write (I2C or console) is not counted.
    const r = newRig()
    await run(r, 1600)
    const status = (): PanelStatus => ({
        pump: r.pump.status(), selfTestOk: true, batteryMv: 3900, pressureMmHg: 50, pressureLimitMmHg: 300,
        plungerEngaged: true, alarmCode: "", alarmPriority: "", audioPaused: false, library: null, history: [],
    })
    // The first tick follows the running pump from home to the running screen.
    const ui = uiStep(initialUiState(), { kind: "tick", key: "start", nowMs: r.t }, status()).state
    let last = ""
    work = () => {
        const out = uiStep(ui, { kind: "tick", key: "start", nowMs: r.t + UI_TICK_MS }, status())
        const text = out.screen.lines.join("\n")
        if (text !== last) last = text
    }
} else if (PROBE_SCENARIO === "packet") {
    // One forged, well-formed 233-byte frame through accept (convert, parse, HMAC, compare).
    const log = new EventLog(8)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    const ep = new RemoteEndpoint({
        deviceId: "bench",
        pump: pump,
        log: log,
        hmac: createRemoteHmac(),
        keys: new HexKeyRing("3b1f0c9a5e7d2468ace13579bdf02468a1b2c3d4e5f60718293a4b5c6d7e8f90", ""),
        replay: new ReplayCounters(new DurableCell(new MemoryPageStore(2, 96), 0, "rctr")),
        logReader: null,
        maintenance: null,
        installer: null,
    })
    const b = Buffer.alloc(233)
    b[0] = 1
    b[7] = 192
    let seed = 12345
    for (let i = 9; i < 233; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        b[i] = seed & 255
    }
    ep.acceptAdmitted(toBytes(b), 0)
    await ds.sleep(0)
    work = () => {
        ep.acceptAdmitted(toBytes(b), 0)
    }
}
await ds.sleep(0)
// ---- the measured turn ----
work()
const acc = spin(PROBE_SPIN)
console.log("PROBE_OK " + PROBE_SCENARIO + " " + PROBE_SPIN + " " + (acc > -1 ? "" : "?") + (ballast ? ballast.length : 0))
await ds.sleep(0)
ds.restart()
