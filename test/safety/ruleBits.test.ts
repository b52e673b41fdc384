// The monitor runs the rule table only on a tick whose fact bits (rules.ts F_*) or latched alarms
// changed (issue 16: a quiet tick runs no rule). The rules read nothing else, but a cause or hold
// set outside the table (an alarm raised on the pump, a garbled snapshot) must still be followed
// by a full evaluation, or a hold would be missed and an alarm clear with its cause present.
import { describe, expect, it, vi } from "vitest"
import { SAFETY_RULES } from "../../src/core/safety/rules"
import { FakeRig, program } from "./fakeRig"

describe("monitor runs the rules only when a fact or the latched set changed", () => {
    it("10 s of steady delivery evaluates no rule; the door opening is still stopped in its tick", () => {
        const r = new FakeRig(program(10000))
        r.run(5000)
        // Every rule evaluation sets its alarm's cause: 500 ticks of 15 rules would be 7,500 calls.
        const setCause = vi.spyOn(r.monitor.alarms, "setCauseAt")
        r.run(10000)
        expect(setCause).toHaveBeenCalledTimes(0)
        r.snap.doorOpen = true
        r.tick()
        expect(setCause).toHaveBeenCalledTimes(SAFETY_RULES.length)
        expect(r.latched("DOOR_OPEN")).toBe(true)
        expect(r.lastTickSteps).toBe(0)
        expect(r.pump.state()).toBe("Alarm")
    })

    it("an alarm latched from outside the rules (raised on the pump) gets its hold from the next tick", () => {
        // Door open while paused: DOOR_OPEN's cause needs delivering, its hold only the open door.
        const r = new FakeRig(program(10000))
        r.run(1000)
        r.pump.pause(r.t)
        r.snap.doorOpen = true
        r.run(200)
        expect(r.latched("DOOR_OPEN")).toBe(false)
        r.pump.raiseAlarm(r.t, "DOOR_OPEN", "test")
        r.run(200)
        expect(r.latched("DOOR_OPEN")).toBe(true)
        // The hold keeps the cause: acknowledging with the door still open must not clear it.
        r.monitor.acknowledge(r.t)
        r.run(200)
        expect(r.latched("DOOR_OPEN")).toBe(true)
        r.snap.doorOpen = false
        r.run(200)
        expect(r.latched("DOOR_OPEN")).toBe(false)
    })

    it("after a garbled snapshot the next valid tick re-runs the rules (SENSOR_FAULT's cause clears)", () => {
        const r = new FakeRig(program(10000))
        r.run(1000)
        r.snap.batteryMv = 2000
        r.tick()
        expect(r.latched("SENSOR_FAULT")).toBe(true)
        r.snap.batteryMv = 3900
        r.tick()
        // Cause gone, latched, not acknowledged; now a garbled snapshot sets the cause again.
        r.monitor.check(r.t, { ...r.snap, batteryMv: NaN })
        r.t += 20
        r.run(200)
        // The valid snapshots show no fault: acknowledging clears it.
        r.monitor.acknowledge(r.t)
        expect(r.latched("SENSOR_FAULT")).toBe(false)
    })
})
