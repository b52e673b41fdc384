// The rule table is packed into one string for the image budget; this pins it to the policy
// written with the fact-bit names (a wrong number in the packed string fails here).
import { describe, expect, it } from "vitest"
import * as R from "../../src/core/safety/rules"

describe("safety rule table (packed string)", () => {
    it("decodes to the policy written with the F_* names, in evaluation order", () => {
        const rows = R.SAFETY_RULES.map(r => [r.code, r.needsPressure, r.cause, r.hold, r.action])
        expect(rows).toEqual([
            ["OCCL_DOWN", true, R.F_OCCLUSION, R.F_BACKING_OFF, "STOP_BACK_OFF"],
            ["AIR_BUBBLE", false, R.F_AIR_SINGLE, R.F_AIR_IN_LINE, "STOP"],
            ["AIR_CUMULATIVE", false, R.F_AIR_CUMULATIVE, R.F_AIR_IN_LINE, "STOP"],
            ["DOOR_OPEN", false, R.F_DOOR_OPEN | R.F_DELIVERING, R.F_DOOR_OPEN, "STOP"],
            ["SYRINGE_DISENGAGED", false, R.F_DISENGAGED | R.F_DELIVERING, R.F_DISENGAGED, "STOP"],
            ["SYRINGE_EMPTY", false, R.F_EMPTY | R.F_DELIVERING, R.F_EMPTY, "STOP"],
            ["NEAR_EMPTY", false, R.F_NEAR_EMPTY, 0, "WARN"],
            ["VTBI_DONE", false, R.F_VTBI_DONE, 0, "WARN"],
            ["PAUSED_LONG", false, R.F_PAUSED_LONG, 0, "WARN"],
            ["BATTERY_LOW", false, R.F_BATTERY_LOW, 0, "WARN"],
            ["BATTERY_DEPLETED", false, R.F_BATTERY_DEPLETED, 0, "STOP"],
            ["SENSOR_FAULT", false, R.F_SENSOR_BAD, 0, "STOP"],
            ["DRIVE_MISMATCH", false, R.F_DRIVE_MISMATCH, 0, "STOP"],
            ["LOOP_OVERRUN", false, R.F_OVERRUN, 0, "WARN"],
            ["WATCHDOG", false, R.F_WATCHDOG, 0, "STOP"],
        ])
    })

    it("quotes the figure each alarm's detail text names", () => {
        const f: R.SafetyFacts = {
            pressureOk: false,
            occlusion: { reason: "p 812 mmHg" } as any,
            air: { currentUl: 51.6, windowTotalUl: 1000.4 } as any,
            level: { leftUl: 12.5, leftS: 299.5 } as any,
            batteryMv: 3300,
            driveErrorUm: 120.2,
        }
        const text = (code: string) => R.ruleDetail(R.SAFETY_RULES.find(r => r.code === code)!, f)
        expect(text("OCCL_DOWN")).toBe("p 812 mmHg")
        expect(text("AIR_BUBBLE")).toBe("bubble 52uL")
        expect(text("AIR_CUMULATIVE")).toBe("1000uL in window")
        expect(text("SYRINGE_EMPTY")).toBe("13uL left")
        expect(text("NEAR_EMPTY")).toBe("300s left")
        expect(text("BATTERY_LOW")).toBe("3300mV")
        expect(text("BATTERY_DEPLETED")).toBe("3300mV")
        expect(text("SENSOR_FAULT")).toBe("pressure")
        expect(text("DRIVE_MISMATCH")).toBe("position error 120um")
        for (const c of ["DOOR_OPEN", "SYRINGE_DISENGAGED", "VTBI_DONE", "PAUSED_LONG", "LOOP_OVERRUN", "WATCHDOG"]) expect(text(c), c).toBe("")
    })
})
