// The control tick is written once (src/core/tick.ts). These tests check that the firmware, the
// host closed loop and the test rig all run it, that the host loop is nothing more than that
// function plus the plant, and the forward/reverse invariant the firmware's drive commands rely on.

import { readFileSync } from "node:fs"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { SAFETY_DEFAULTS, SafetyMonitor } from "../../src/core/safety/monitor"
import { runControlTick, TickActions } from "../../src/core/tick"
import { ClosedLoop, programAt } from "../../hil-tests/host/closedLoop"
import { createPlant } from "../../hil-tests/plant/index"

const RATE_UL_PER_H = 25000 // 25 mL/h: OCCL_DOWN within 1 min of closing the line (target < 1 min)
const OCCLUDE_AT_MS = 60000
const END_MS = 240000

interface TickRecord {
    nowMs: number
    forwardSteps: number
    reverseSteps: number
    motorOn: boolean
    toneHz: number
    redLed: boolean
}

function record(nowMs: number, t: TickActions): TickRecord {
    return { nowMs, forwardSteps: t.forwardSteps, reverseSteps: t.reverseSteps, motorOn: t.motorOn, toneHz: t.annunciation.toneHz, redLed: t.annunciation.redLed }
}

/** The host closed loop on seed 3: line closed at 60 s, run to 4 min (alarm and back-off). */
function closedLoopTrace() {
    const plant = createPlant({ seed: 3 })
    const loop = new ClosedLoop({ plant, program: programAt(RATE_UL_PER_H) })
    const trace: TickRecord[] = []
    while (loop.nowMs < END_MS) {
        if (loop.nowMs === OCCLUDE_AT_MS) plant.setDownstreamOcclusion(true)
        const t = loop.nowMs
        loop.tick()
        trace.push(record(t, loop.lastTick))
    }
    return { trace, log: loop.log.all(), truth: plant.truth() }
}

/** The same run written out by hand: the plant, and runControlTick called directly. */
function directTrace() {
    const plant = createPlant({ seed: 3 })
    const log = new EventLog(4000)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    const monitor = new SafetyMonitor(pump, log, SAFETY_DEFAULTS)
    expect(pump.loadProgram(0, programAt(RATE_UL_PER_H)).ok).toBe(true)
    expect(pump.start(0).ok).toBe(true)
    const trace: TickRecord[] = []
    for (let nowMs = 0; nowMs < END_MS; nowMs += CONTROL_PERIOD_MS) {
        if (nowMs === OCCLUDE_AT_MS) plant.setDownstreamOcclusion(true)
        const t = runControlTick(nowMs, plant.sensors(), monitor, pump)
        trace.push(record(nowMs, t))
        plant.advance(CONTROL_PERIOD_MS, { steps: t.forwardSteps - t.reverseSteps, motorEnabled: t.motorOn })
    }
    return { trace, log: log.all(), truth: plant.truth() }
}

describe("one control tick for firmware, host closed loop and test rigs", () => {
    it("the host closed loop is runControlTick plus the plant: identical per-tick trace, log and delivered volume", () => {
        const a = closedLoopTrace()
        const b = directTrace()
        expect(a.trace.length).toBe(END_MS / CONTROL_PERIOD_MS)
        // The run must cover the interesting parts: delivery, an occlusion alarm and a back-off.
        expect(a.log.some(e => e.kind === "BACKOFF_START")).toBe(true)
        expect(a.trace.some(r => r.reverseSteps > 0)).toBe(true)
        expect(a.trace.some(r => r.toneHz > 0)).toBe(true)
        expect(a.trace).toEqual(b.trace)
        expect(a.log).toEqual(b.log)
        expect(a.truth).toEqual(b.truth)
    })

    it("firmware control loop, host closed loop and fake rig call runControlTick and neither pump.update nor monitor.check", () => {
        for (const path of ["src/firmware/control.ts", "hil-tests/host/closedLoop.ts", "test/safety/fakeRig.ts"]) {
            const src = readFileSync(path, "utf8")
            expect(src, path).toMatch(/import \{[^}]*\brunControlTick\b[^}]*\} from "[./]*(src\/)?core\/tick"/)
            expect(src, path).toMatch(/runControlTick\(/)
            expect(src, path).not.toMatch(/\.update\(/)
            expect(src, path).not.toMatch(/\.check\(/)
        }
    })
})

describe("forward and reverse steps in one tick", () => {
    it("a back-off tick fires no forward steps and keeps the motor enabled (25 mL/h occlusion)", () => {
        const { trace } = closedLoopTrace()
        const backoff = trace.filter(r => r.reverseSteps > 0)
        // SAFETY_DEFAULTS back off 40 µsteps per tick; the occlusion at 25 mL/h needs several ticks.
        expect(backoff.length).toBeGreaterThan(1)
        for (const r of backoff) {
            expect(r.forwardSteps, "t=" + r.nowMs).toBe(0)
            expect(r.motorOn, "t=" + r.nowMs).toBe(true)
        }
        // Before the line was closed the pump delivered: 25 mL/h is 25000/3600 µL/s ≈ 6.94 µL/s,
        // i.e. 6.94e6 pL/s / 173531 pL per µstep ≈ 40 µsteps/s ≈ 0.8 per 20 ms tick.
        const forwardBefore = trace.filter(r => r.nowMs < OCCLUDE_AT_MS).reduce((s, r) => s + r.forwardSteps, 0)
        expect(Math.abs(forwardBefore - (25000 * 60 * 1e6) / 3600 / 173531)).toBeLessThan(40)
    })

    it("never both non-zero under random occlusions, door openings, acknowledges and restarts", () => {
        type Act = "occlude" | "reopen" | "doorOpen" | "doorClose" | "ackRestart"
        const act = fc.constantFrom<Act>("occlude", "reopen", "doorOpen", "doorClose", "ackRestart")
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 2000 }), act), { minLength: 1, maxLength: 12 }), (seed, acts) => {
                const plant = createPlant({ seed })
                const loop = new ClosedLoop({ plant, program: programAt(RATE_UL_PER_H) })
                for (const [ticks, a] of acts) {
                    if (a === "occlude") plant.setDownstreamOcclusion(true)
                    else if (a === "reopen") plant.setDownstreamOcclusion(false)
                    else if (a === "doorOpen") plant.setDoorOpen(true)
                    else if (a === "doorClose") plant.setDoorOpen(false)
                    else {
                        loop.monitor.acknowledge(loop.nowMs)
                        loop.pump.start(loop.nowMs)
                    }
                    for (let i = 0; i < ticks; i++) {
                        loop.tick()
                        const t = loop.lastTick
                        if (t.reverseSteps > 0 && t.forwardSteps > 0) return false
                        if (t.reverseSteps > 0 && !t.motorOn) return false
                    }
                }
                return true
            }),
            { numRuns: 25, seed: 10 }
        )
    })
})
