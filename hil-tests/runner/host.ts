// Host backend: the scenario on the closed-loop harness (hil-tests/host/closedLoop.ts): the real
// core and safety monitor (src/core) at the firmware's 20 ms tick against the same plant, on a
// virtual clock, so a 2 h scenario runs in seconds. What this path does NOT exercise: the
// DeviceScript VM, the bus, the HIL adapter's stale-sensor handling and real-time jitter (the sim
// backend does).

import { CONTROL_PERIOD_MS } from "../../src/core/pump"
import { ClosedLoop } from "../host/closedLoop"
import type { Plant } from "../plant/api"
import { applyToPlant } from "./drive"
import { evaluate, ScenarioResult, Trace } from "./evaluate"
import type { Scenario } from "./scenario"
import { assertSupported } from "./capabilities"
import { plantFor } from "./sim"

const SAMPLE_MS = 100 // like the firmware's HIL status line

function boot(plant: Plant, sc: Scenario, trace: Trace): ClosedLoop | undefined {
    try {
        const loop = new ClosedLoop({ plant, program: sc.program, start: false })
        trace.program = { ok: true, reason: "" }
        return loop
    } catch (e) {
        trace.program = { ok: false, reason: (e as Error).message }
        return new ClosedLoop({ plant }) // no program: the pump idles, as the firmware does
    }
}

export function runHostScenario(sc: Scenario, mutation?: string): ScenarioResult {
    assertSupported(sc, "host") // before anything runs
    const wall0 = Date.now()
    const plant = plantFor(sc, mutation)
    const trace: Trace = { samples: [], program: { ok: false, reason: "" }, restarts: [] }
    let loop = boot(plant, sc, trace)!
    const events = [...sc.events].sort((a, b) => a.atS - b.atS)
    let next = 0
    let powered = true
    let offsetMs = 0
    let infusedBefore = 0
    let sampleRestart = false
    const endMs = Math.round(sc.durationS * 1000)
    let t = 0
    let nextSample = 0
    let fwdSteps = 0 // forward microsteps since the last sample
    while (t <= endMs) {
        while (next < events.length && events[next].atS * 1000 <= t) {
            const e = events[next++]
            if (e.do === "sensor" && e.fault === "unplugged") {
                plant.setPressureSensorFault("disconnected") // the adapter reads a missing sensor as 0 counts
                continue
            }
            if (applyToPlant(plant, e)) continue
            const p = loop.pump
            const now = loop.nowMs
            if (e.do === "key" && powered) {
                if (e.key === "start") {
                    if (p.state() === "Paused") p.resume(now)
                    else p.start(now)
                } else if (e.key === "pause") p.pause(now)
                else if (e.key === "stop") p.stop(now)
                else if (e.key === "bolus") p.bolus(now)
                else if (e.key === "ack") loop.monitor.acknowledge(now) // through the alarm manager, as the firmware does
            } else if (e.do === "power" && !e.on && powered) {
                powered = false
                infusedBefore = p.status().infusedUl
            } else if (e.do === "power" && e.on && !powered) {
                // A fresh boot, as the firmware does (its clock restarts at 0).
                powered = true
                offsetMs = t
                loop = boot(plant, sc, trace)!
                sampleRestart = true
            }
        }
        if (powered) {
            loop.tick()
            fwdSteps += loop.lastTick ? loop.lastTick.forwardSteps : 0
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
