// The safety configuration defaults and the alarm burst patterns are packed into strings for the
// image budget (units.ts unpack); this pins every value to the documented setting, so a wrong
// digit in a packed string fails here. Values: REQ ids and sources in docs/requirements.md.
import { describe, expect, it } from "vitest"
import { AIR_DEFAULTS } from "../../src/core/safety/air"
import { HIGH_PATTERN, LOW_PATTERN, MEDIUM_PATTERN } from "../../src/core/safety/alarmManager"
import { NOMINAL_PRESSURE_CAL, SAFETY_DEFAULTS } from "../../src/core/safety/monitor"
import { OCCLUSION_DEFAULTS } from "../../src/core/safety/occlusion"
import { SELFTEST_LIMITS } from "../../src/core/safety/selfTest"
import { unpack } from "../../src/core/units"
import { AirDetector } from "../../src/core/safety/air"
import { AlarmManager } from "../../src/core/safety/alarmManager"
import { EventLog } from "../../src/core/eventLog"
import { ALL_STATES } from "../../src/core/pumpStates"

describe("packed safety defaults", () => {
    it("safety monitor defaults are the documented settings", () => {
        expect(SAFETY_DEFAULTS).toEqual({
            occlusion: OCCLUSION_DEFAULTS,
            autoCompliance: true,
            air: AIR_DEFAULTS,
            pressureCal: NOMINAL_PRESSURE_CAL,
            adcMinCounts: 100,
            adcMaxCounts: 4000,
            stuckMs: 10000,
            implausibleLowMmHg: -60,
            nearEmptyMs: 300000,
            emptyTravelUm: 500,
            pausedMaxMs: 120000,
            batteryLowMv: 3550,
            batteryDepletedMv: 3350,
            batteryMinMv: 2500,
            batteryMaxMv: 4500,
            positionMismatchUm: 200,
            overrunMs: 200,
            watchdogMs: 1000,
            backoffStepsPerS: 2000,
            backoffMarginMmHg: 3,
            backoffMaxMs: 15000,
        })
        expect(SAFETY_DEFAULTS.occlusion).toBe(OCCLUSION_DEFAULTS)
        expect(SAFETY_DEFAULTS.air).toBe(AIR_DEFAULTS)
    })

    it("occlusion, air and self-test defaults are the documented settings", () => {
        expect(OCCLUSION_DEFAULTS).toEqual({
            level: "medium",
            complianceUlPerMmHg: 5,
            riseMmHg: 20,
            windowMmHg: 16,
            minWindowMs: 20000,
            minRiseFraction: 0.3,
            segments: 3,
            minSegmentUl: 30,
            baselineTauMs: 600000,
            baselineDownTauMs: 60000,
            medianLength: 31,
            confirmMs: 10000,
        })
        expect(AIR_DEFAULTS).toEqual({ singleBubbleUl: 100, cumulativeUl: 1000, cumulativeWindowMs: 900000, windowUl: 2.4 })
        expect(SELFTEST_LIMITS).toEqual({ minOnMa: 3, maxOffMa: 1, restMinMmHg: -30, restMaxMmHg: 100, adcMin: 100, adcMax: 4000, batteryMinMv: 3000, batteryMaxMv: 4500, positionMinUm: -1000, positionMaxUm: 100000 })
    })

    it("burst patterns are the IEC 60601-1-8 timings in alarmManager.ts", () => {
        expect(HIGH_PATTERN).toEqual({ pulses: [0, 200, 400, 800, 1000, 2100, 2300, 2500, 2900, 3100], pulseMs: 100, periodMs: 8000, toneHz: 960 })
        expect(MEDIUM_PATTERN).toEqual({ pulses: [0, 400, 800], pulseMs: 200, periodMs: 10000, toneHz: 720 })
        expect(LOW_PATTERN).toEqual({ pulses: [0, 400], pulseMs: 200, periodMs: 20000, toneHz: 480 })
    })

    it("unpack decodes text, whole numbers, flags, thousandths and lists", () => {
        expect(unpack("a|-7||2400|1,2;b|0|x|300|5", "name|#n|?f|%r|*l")).toEqual([
            { name: "a", n: -7, f: false, r: 2.4, l: [1, 2] },
            { name: "b", n: 0, f: true, r: 0.3, l: [5] },
        ])
    })

    it("the quiet-tick records (no alarm, no air) and the state list are the documented values", () => {
        expect(new AlarmManager(new EventLog(10)).annunciation(0)).toEqual({ code: "", priority: "", text: "", toneHz: 0, pulseMs: 0, redLed: false, yellowLed: false, audioPaused: false, latchedCount: 0 })
        expect(new AirDetector(AIR_DEFAULTS).update(0, false, 0)).toEqual({ single: false, cumulative: false, currentUl: 0, windowTotalUl: 0 })
        expect(ALL_STATES).toEqual(["Idle", "Programmed", "Standby", "Loading", "Running", "Paused", "Bolus", "KVO", "Complete", "Alarm", "OutOfService"])
    })
})
