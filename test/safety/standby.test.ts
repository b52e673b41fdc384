// Standby and delayed start (REQ-DOSE-010), run through the real control tick and safety monitor.
import { describe, expect, it } from "vitest"
import { FakeRig, program } from "./fakeRig"
import { PumpStateMachine } from "../../src/core/stateMachine"

function rigInStandby(untilMs: number, autoStart: boolean) {
    const r = new FakeRig()
    expect(r.pump.loadProgram(0, program(10_000)).ok).toBe(true)
    expect(r.pump.standby(0, untilMs, autoStart).ok).toBe(true)
    return r
}

describe("standby and delayed start", () => {
    it("delayed start at 10 min: no step and no paused-too-long reminder before, then 10 mL/h (960 steps/min)", () => {
        const r = rigInStandby(600_000, true)
        expect(r.pump.status().standbyUntilMs).toBe(600_000)
        let moved = 0
        r.run(600_000, () => {
            moved += Math.abs(r.lastTickSteps)
            return false
        })
        expect(moved).toBe(0)
        expect(r.pump.state()).toBe("Standby")
        // Paused for the same 10 min would have raised PAUSED_LONG after 2 min; standby does not.
        expect(r.latched("PAUSED_LONG")).toBe(false)
        r.tick() // t = 600,000: the start tick fires nothing
        expect(r.pump.state()).toBe("Running")
        expect(r.lastTickSteps).toBe(0)
        const before = r.snap.firedSteps
        r.run(60_000)
        // 10 mL/h for 60 s = 166.67 µL / 173.531 nL = 960.4 steps.
        expect(Math.abs(r.snap.firedSteps - before - 960.4)).toBeLessThanOrEqual(2)
        expect(r.log.ofKind("STANDBY")).toHaveLength(1)
    })

    it("a delayed start with the door open fires no step: the door alarm stops it on the next tick", () => {
        const r = rigInStandby(60_000, true)
        r.run(60_000)
        r.snap.doorOpen = true
        r.tick() // start tick: Running, no step
        r.tick() // monitor sees a delivering pump with the door open
        expect(r.latched("DOOR_OPEN")).toBe(true)
        expect(r.snap.firedSteps).toBe(0)
    })

    it("start on confirmation: from the set time the paused-too-long reminder is raised until started", () => {
        const r = rigInStandby(300_000, false)
        expect(r.run(299_980, () => r.latched("PAUSED_LONG"))).toBe(false)
        expect(r.run(60, () => r.latched("PAUSED_LONG"))).toBe(true)
        expect(r.pump.state()).toBe("Standby") // it never starts by itself
        expect(r.pump.start(r.t).ok).toBe(true) // the confirmation
        r.monitor.alarms.acknowledge(r.t)
        r.run(100)
        expect(r.latched("PAUSED_LONG")).toBe(false)
        expect(r.pump.state()).toBe("Running")
    })

    it("refuses a time in the past, more than 24 h ahead, or standby while delivering", () => {
        const r = new FakeRig()
        r.pump.loadProgram(0, program(10_000))
        expect(r.pump.standby(1000, 1000, true).ok).toBe(false)
        expect(r.pump.standby(0, 24 * 3_600_000 + 1, true).ok).toBe(false)
        r.pump.start(0)
        expect(r.pump.standby(20, 60_000, true).reason).toBe("'standby' is not allowed in state Running")
    })

    it("stop leaves standby for Programmed; a restored Standby comes back Programmed (its time is not kept)", () => {
        const r = rigInStandby(600_000, true)
        expect(r.pump.stop(20).ok).toBe(true)
        expect(r.pump.state()).toBe("Programmed")
        r.run(700_000)
        expect(r.pump.state()).toBe("Programmed")
        const sm = new PumpStateMachine()
        sm.restore("Standby")
        expect(sm.current).toBe("Programmed")
    })
})
