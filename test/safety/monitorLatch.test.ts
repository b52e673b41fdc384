// Two monitor paths outside the rule table: an alarm raised on the pump itself is latched (and
// must be acknowledged like any other), and acknowledging cumulative air with a clear line
// restarts the rolling air sum (the operator's statement that the line was purged).

import { describe, expect, it } from "vitest"
import { AIR_DEFAULTS } from "../../src/core/safety/air"
import { AlarmCode } from "../../src/core/safety/alarmCodes"
import { FakeRig, program } from "./fakeRig"

describe("alarms raised on the pump are latched by the monitor", () => {
    it("a known code (DRIVE_FAULT) latches as itself; the pump leaves Alarm only after acknowledge", () => {
        const rig = new FakeRig(program(5000))
        rig.run(1000)
        rig.pump.raiseAlarm(rig.t, "DRIVE_FAULT", "test")
        rig.run(200)
        expect(rig.monitor.alarms.latchedCodes()).toEqual(["DRIVE_FAULT"])
        rig.run(5000)
        expect(rig.pump.state()).toBe("Alarm")
        rig.monitor.acknowledge(rig.t)
        rig.run(200)
        expect(rig.monitor.alarms.latchedCount()).toBe(0)
        expect(rig.pump.state()).toBe("Paused")
    })

    it("an unknown code (e.g. restored from another firmware version) latches as PUMP_ALARM", () => {
        const rig = new FakeRig(program(5000))
        rig.run(1000)
        rig.pump.raiseAlarm(rig.t, "NOT_A_CODE" as AlarmCode, "test")
        rig.run(200)
        expect(rig.monitor.alarms.latchedCodes()).toEqual(["PUMP_ALARM"])
        expect(rig.log.ofKind("ALARM_ON").some(e => e.detail.includes("raised by pump: NOT_A_CODE"))).toBe(true)
        rig.run(5000)
        expect(rig.pump.state()).toBe("Alarm")
        rig.monitor.acknowledge(rig.t)
        rig.run(200)
        expect(rig.pump.state()).toBe("Paused")
    })
})

describe("acknowledging cumulative air", () => {
    // 25 mL/h is 6.94 µL/s: air seen for 24 s is a 167 µL bubble (minus the 2.4 µL window),
    // under the 250 µL single limit; six of them (1,000 µL) pass the 1,000 µL / 15 min sum.
    function cumulativeAlarm(): FakeRig {
        const rig = new FakeRig(program(25000), { air: { ...AIR_DEFAULTS, singleBubbleUl: 250 } })
        for (let k = 0; k < 8 && !rig.latched("AIR_CUMULATIVE"); k++) {
            rig.snap.airInLine = true
            rig.run(24000)
            rig.snap.airInLine = false
            rig.run(6000)
        }
        expect(rig.monitor.alarms.latchedCodes()).toEqual(["AIR_CUMULATIVE"])
        return rig
    }

    it("with no air in the line, restarts the rolling sum (logged) and the alarm clears", () => {
        const rig = cumulativeAlarm()
        rig.monitor.acknowledge(rig.t)
        rig.run(200)
        expect(rig.log.ofKind("AIR_HISTORY_RESET").length).toBe(1)
        expect(rig.latched("AIR_CUMULATIVE")).toBe(false)
    })

    it("with air in the line, keeps the sum: the alarm stays latched", () => {
        const rig = cumulativeAlarm()
        rig.snap.airInLine = true
        rig.run(200)
        rig.monitor.acknowledge(rig.t)
        rig.run(200)
        expect(rig.log.ofKind("AIR_HISTORY_RESET").length).toBe(0)
        expect(rig.latched("AIR_CUMULATIVE")).toBe(true)
    })
})
