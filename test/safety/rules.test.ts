// The detail text of each rule (rules.ts ruleDetail): the figure the alarm names, rounded.
import { describe, expect, it } from "vitest"
import * as R from "../../src/core/safety/rules"

describe("safety rule detail texts", () => {
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
