// Host backend: the scenario on the closed-loop harness (hil-tests/host/closedLoop.ts): the real
// core and safety monitor (src/core) at the firmware's 20 ms tick against the same plant, on a
// virtual clock, so a 2 h scenario runs in seconds. What this path does NOT exercise: the
// DeviceScript VM, the bus, the HIL adapter's stale-sensor handling and real-time jitter (the sim
// backend does).
//
// Power cut and restore: a scenario with a `power` event runs with the firmware's own
// persistence layer (src/firmware/persistence.ts: the snapshot saver, the persistent log and the
// power-up restore) on a virtual settings flash that outlives the cut, driven by a virtual-time
// clock (the stand-ins test/firmware/boot.test.ts boots the firmware with). Power off drops every
// object but the flash (writes not yet flushed are lost, as on the device); power on boots the
// persistence again, which restores the pump; a program is loaded only if nothing was restored,
// as src/firmware/app.ts runFirmware does. Scenarios without a power event skip the persistence
// timers (they cost about a setImmediate per 100 ms of virtual time).

import { CommandResult, CONTROL_PERIOD_MS } from "../../src/core/pump"
import { startPersistence } from "../../src/firmware/persistence"
import { FakeClock, fakeDeviceServices, MapSettings } from "../../test/firmware/fakeDevice"
import { ClosedLoop } from "../host/closedLoop"
import type { Plant } from "../plant/api"
import { applyToPlant } from "./drive"
import { evaluate, ScenarioResult, Trace } from "./evaluate"
import { applyPumpSetup } from "./libraryProgram"
import type { Scenario } from "./scenario"
import { assertSupported } from "./capabilities"
import { plantFor } from "./sim"

const SAMPLE_MS = 100 // like the firmware's HIL status line
/** The firmware's persistence timer period (src/firmware/persistence.ts). */
const PERSIST_MS = 100
const BOOT_LIMIT_MS = 20000

/** The program load of src/firmware/app.ts runFirmware (only into an Idle pump: a restored
 *  pump keeps its own program), then the library setup, as src/firmware/hilRun.ts does. */
function loadProgram(loop: ClosedLoop, sc: Scenario, trace: Trace) {
    if (sc.library && sc.library.refusal) {
        trace.program = { ok: false, reason: sc.library.refusal }
        return
    }
    if (!sc.program || loop.pump.state() !== "Idle") return
    let r = loop.pump.loadProgram(loop.nowMs, sc.program)
    if (r.ok && sc.library) r = applyPumpSetup(loop.pump, loop.nowMs, sc.library.setup)
    trace.program = { ok: r.ok, reason: r.reason }
}

interface Power {
    flash: MapSettings
    clock: FakeClock
}

async function boot(plant: Plant, sc: Scenario, trace: Trace, power: Power | null): Promise<ClosedLoop> {
    const loop = new ClosedLoop({ plant, logCapacity: 4000 })
    if (power) {
        // The clock restarts at 0 at every power-up, as the firmware's does.
        power.clock = new FakeClock()
        await power.clock.runUntil(startPersistence(loop.pump, loop.log, "host-rig", fakeDeviceServices(power.clock, power.flash)), BOOT_LIMIT_MS)
    }
    loadProgram(loop, sc, trace)
    return loop
}

function pressKey(loop: ClosedLoop, key: string): CommandResult {
    const p = loop.pump
    const now = loop.nowMs
    // The same mapping as the firmware's keypad handler (src/firmware/hilRun.ts onKey).
    if (key === "start") return p.state() === "Paused" ? p.resume(now) : p.start(now)
    if (key === "pause") return p.pause(now)
    if (key === "stop") return p.stop(now)
    if (key === "bolus") return p.bolus(now)
    loop.monitor.acknowledge(now) // ack: through the alarm manager, as the firmware does
    return { ok: true, reason: "" }
}

export async function runHostScenario(sc: Scenario, mutation?: string): Promise<ScenarioResult> {
    assertSupported(sc, "host") // before anything runs
    const wall0 = Date.now()
    const plant = plantFor(sc, mutation)
    const trace: Trace = { samples: [], program: { ok: false, reason: "" }, restarts: [], keys: [] }
    const power: Power | null = sc.events.some(e => e.do === "power") ? { flash: new MapSettings(), clock: new FakeClock() } : null
    let loop = await boot(plant, sc, trace, power)
    const events = [...sc.events].sort((a, b) => a.atS - b.atS)
    let next = 0
    let powered = true
    let offsetMs = 0
    let infusedBefore = 0
    let sampleRestart = false
    const endMs = Math.round(sc.durationS * 1000)
    let t = 0
    let nextSample = 0
    let nextPersist = PERSIST_MS
    let fwdSteps = 0 // forward microsteps since the last sample
    while (t <= endMs) {
        while (next < events.length && events[next].atS * 1000 <= t) {
            const e = events[next++]
            if (e.do === "sensor" && e.fault === "unplugged") {
                plant.setPressureSensorFault("disconnected") // the adapter reads a missing sensor as 0 counts
                continue
            }
            if (applyToPlant(plant, e)) continue
            if (e.do === "key" && powered) {
                const r = pressKey(loop, e.key)
                trace.keys!.push({ tS: t / 1000, key: e.key, ok: r.ok, reason: r.reason })
            } else if (e.do === "power" && !e.on && powered) {
                // Cut: the firmware objects and their timers are gone; only the flash remains.
                powered = false
                infusedBefore = loop.pump.status().infusedUl
                power!.clock.powerOff()
            } else if (e.do === "power" && e.on && !powered) {
                powered = true
                offsetMs = t
                loop = await boot(plant, sc, trace, power)
                nextPersist = PERSIST_MS
                sampleRestart = true
            }
        }
        if (powered) {
            loop.tick()
            fwdSteps += loop.lastTick ? loop.lastTick.forwardSteps : 0
            // The persistence timer (snapshot saves, log flush) on the firmware's own clock.
            if (power && loop.nowMs >= nextPersist) {
                await power.clock.advanceTo(loop.nowMs)
                nextPersist = loop.nowMs - (loop.nowMs % PERSIST_MS) + PERSIST_MS
            }
        } else {
            plant.advance(CONTROL_PERIOD_MS, { steps: 0, motorEnabled: false })
        }
        t = powered ? offsetMs + loop.nowMs : t + CONTROL_PERIOD_MS
        if (powered && t >= nextSample) {
            nextSample = t + SAMPLE_MS
            const s = loop.pump.status()
            const tr = plant.truth()
            trace.samples.push({
                tS: t / 1000, state: s.state, alarm: s.alarmCode, infusedUl: s.infusedUl, bolusUl: s.bolusUl,
                deliveredUl: tr.deliveredUl, displacedUl: tr.displacedUl, pressureMmHg: tr.linePressureMmHg,
                latched: loop.monitor.alarms.latchedCodes().slice(), fwdSteps: fwdSteps,
            })
            fwdSteps = 0
            if (sampleRestart) {
                sampleRestart = false
                trace.restarts.push({ tS: t / 1000, state: s.state, infusedUl: s.infusedUl, infusedBeforeUl: infusedBefore })
            }
        }
    }
    return evaluate(sc, trace, mutation ? "host!" + mutation : "host", (Date.now() - wall0) / 1000)
}
