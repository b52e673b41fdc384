// The monitor runs the rule table only on a tick whose fact bits (rules.ts F_*) or latched alarms
// changed (issue 16: a quiet tick runs no rule). The rules read nothing else, but a cause or hold
// set outside the table (an alarm raised on the pump, a garbled snapshot) must still be followed
// by a full evaluation, or a hold would be missed and an alarm clear with its cause present.
import fc from "fast-check"
import { describe, expect, it, vi } from "vitest"
import { levelCheckFromUm, syringeLevel } from "../../src/core/safety/detectors/syringeLevel"
import { SAFETY_DEFAULTS } from "../../src/core/safety/monitor"
import { SAFETY_RULES } from "../../src/core/safety/rules"
import { SYRINGES, SyringeSpec } from "../../src/core/syringe"
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

describe("syringe level is computed only from where it can flag (levelCheckFromUm)", () => {
    it("no position below the threshold is empty or near empty, for every syringe and rate; at the threshold + 2 µm the exact check runs", () => {
        fc.assert(
            fc.property(
                fc.constantFrom(...SYRINGES),
                fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_200_000 })),
                fc.double({ min: 0, max: 1, noNaN: true }),
                fc.boolean(),
                (sy, rateUlPerH, frac, delivering) => {
                    const from = levelCheckFromUm(sy, rateUlPerH, SAFETY_DEFAULTS.emptyTravelUm, SAFETY_DEFAULTS.nearEmptyMs)
                    const pos = frac * sy.plungerTravelUm
                    const l = syringeLevel({ empty: false, nearEmpty: false, leftUl: 0, leftS: 0 }, sy, pos, rateUlPerH, delivering, SAFETY_DEFAULTS.emptyTravelUm, SAFETY_DEFAULTS.nearEmptyMs)
                    if (pos < from) expect(l.empty || l.nearEmpty).toBe(false)
                    // Just below the threshold, delivering: still neither (a threshold set too high would hide it).
                    const below = syringeLevel(l, sy, from - 1e-6, rateUlPerH, true, SAFETY_DEFAULTS.emptyTravelUm, SAFETY_DEFAULTS.nearEmptyMs)
                    expect(below.empty || below.nearEmpty).toBe(false)
                    // The threshold is tight (1 µm margin): 2 µm above it, delivering, one of them holds.
                    const above = syringeLevel(l, sy, from + 2, rateUlPerH, true, SAFETY_DEFAULTS.emptyTravelUm, SAFETY_DEFAULTS.nearEmptyMs)
                    expect(above.empty || above.nearEmpty).toBe(true)
                }
            ),
            { numRuns: 3000 }
        )
    })

    it("no syringe: never computed", () => {
        expect(levelCheckFromUm(null as unknown as SyringeSpec, 1000, 500, 300000)).toBeGreaterThan(1e12)
    })
})
