// Host backend: the same dosing core and plant on a virtual clock (a 24 h scenario runs in
// seconds). The core is the one the firmware compiles (src/core); the tick period and
// acceleration are read from src/control.ts so the two paths cannot drift apart. What this path
// does NOT exercise: the DeviceScript VM, the bus and the HIL adapter (the sim backend does).

import { readFileSync } from "node:fs"
import { join } from "node:path"
import { EventLog } from "../../src/core/eventLog"
import { PumpController } from "../../src/core/pump"
import { REFERENCE_MECHANICS } from "../../src/core/syringe"
import { applyToPlant } from "./drive"
import { evaluate, ScenarioResult, Trace } from "./evaluate"
import type { Scenario } from "./scenario"
import { plantFor, ROOT } from "./sim"

function controlConstant(name: string): number {
    const src = readFileSync(join(ROOT, "src/control.ts"), "utf8")
    const m = new RegExp("export const " + name + " = (\\d+)").exec(src)
    if (!m) throw new Error("src/control.ts: cannot find " + name)
    return Number(m[1])
}

export function runHostScenario(sc: Scenario): ScenarioResult {
    const wall0 = Date.now()
    const tickMs = controlConstant("TICK_MS")
    const accel = controlConstant("ACCEL_STEPS_PER_S2")
    const log = new EventLog(256)
    const pump = new PumpController({ mechanics: REFERENCE_MECHANICS, tickMs, accelStepsPerS2: accel }, log)
    const plant = plantFor(sc)
    const trace: Trace = { samples: [], program: { ok: false, reason: "" }, restarts: [] }
    const loaded = pump.loadProgram(0, sc.program)
    trace.program = { ok: loaded.ok, reason: loaded.reason }
    const events = [...sc.events].sort((a, b) => a.atS - b.atS)
    let next = 0
    let powered = true
    let infusedBefore = 0
    const endMs = Math.round(sc.durationS * 1000)
    const sampleEvery = 100 // ms, like the firmware's HIL status line
    for (let t = 0; t <= endMs; t += tickMs) {
        while (next < events.length && events[next].atS * 1000 <= t) {
            const e = events[next++]
            if (applyToPlant(plant, e)) continue
            if (e.do === "key") {
                if (e.key === "start") {
                    if (pump.state() === "Paused") pump.resume(t)
                    else pump.start(t)
                } else if (e.key === "pause") pump.pause(t)
                else if (e.key === "stop") pump.stop(t)
                else if (e.key === "bolus") pump.bolus(t)
                else if (e.key === "ack") pump.resetAlarm(t)
            } else if (e.do === "power") {
                if (!e.on && powered) {
                    powered = false
                    infusedBefore = pump.status().infusedUl
                } else if (e.on && !powered) {
                    // No persistence module exists yet: a restart is a fresh boot with the program.
                    powered = true
                    const fresh = new PumpController({ mechanics: REFERENCE_MECHANICS, tickMs, accelStepsPerS2: accel }, log)
                    fresh.loadProgram(t, sc.program)
                    Object.assign(pump, fresh)
                    const s = pump.status()
                    trace.restarts.push({ tS: t / 1000, state: s.state, infusedUl: s.infusedUl, infusedBeforeUl: infusedBefore })
                }
            }
        }
        const out = powered ? pump.update(t) : { steps: 0, forward: true, motorEnabled: false }
        plant.advance(tickMs, { steps: out.forward ? out.steps : -out.steps, motorEnabled: out.motorEnabled })
        if (t % sampleEvery === 0 && powered) {
            const s = pump.status()
            const tr = plant.truth()
            trace.samples.push({
                tS: t / 1000,
                state: s.state,
                alarm: s.alarmCode,
                infusedUl: s.infusedUl,
                bolusUl: s.bolusUl,
                deliveredUl: tr.deliveredUl,
                displacedUl: tr.displacedUl,
                pressureMmHg: tr.linePressureMmHg,
            })
        }
    }
    return evaluate(sc, trace, "host", (Date.now() - wall0) / 1000)
}
