import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { NOMINAL_PRESSURE_CAL } from "../../src/core/safety/monitor"
import { applySelfTest, crc16, evaluateSelfTest, SelfTestInputs } from "../../src/core/safety/selfTest"

const good = (): SelfTestInputs => ({
    buzzerOnMa: 25,
    buzzerOffMa: 0.1,
    ledOnMa: 10,
    ledOffMa: 0,
    snapshot: { pressureAdc: 425, airInLine: false, doorOpen: false, plungerEngaged: true, batteryMv: 3900, firedSteps: 0, plungerPositionUm: 0 },
    settingsText: "occl=medium air=100uL",
    settingsCrc: crc16("occl=medium air=100uL"),
})

function pump() {
    const log = new EventLog(100)
    return { log, pump: new PumpController(REFERENCE_PUMP_CONFIG, log) }
}

describe("power-on self-test", () => {
    it("CRC-16/CCITT-FALSE check value: crc16('123456789') = 0x29B1", () => {
        expect(crc16("123456789")).toBe(0x29b1)
    })

    it("passes with healthy hardware", () => {
        const r = evaluateSelfTest(good(), NOMINAL_PRESSURE_CAL)
        expect(r.failures).toEqual([])
        const { log, pump: p } = pump()
        expect(applySelfTest(0, r, p, log)).toBe(true)
        expect(p.state()).toBe("Idle")
    })

    const faults: [string, (i: SelfTestInputs) => void, RegExp][] = [
        ["buzzer open circuit", i => (i.buzzerOnMa = 0.2), /buzzer open/],
        ["buzzer driver stuck on", i => (i.buzzerOffMa = 20), /buzzer driver stuck/],
        ["LED open", i => (i.ledOnMa = 0), /alarm LED open/],
        ["pressure sensor disconnected (0 counts)", i => (i.snapshot.pressureAdc = 0), /pressure sensor out of range/],
        ["pressure at rest 200 mmHg (410 + 2.112·200 = 832 counts)", i => (i.snapshot.pressureAdc = 832), /pressure at rest implausible/],
        ["battery reading 0 mV", i => (i.snapshot.batteryMv = 0), /battery/],
        ["position sensor NaN", i => (i.snapshot.plungerPositionUm = NaN), /position/],
        ["one flipped bit in the settings", i => (i.settingsText = "occl=medium air=101uL"), /settings checksum/],
        ["no snapshot at all", i => (i.snapshot = null as never), /no snapshot/],
    ]
    for (const [name, breakIt, why] of faults) {
        it("fails -> Out of Service with the reason kept: " + name, () => {
            const inp = good()
            breakIt(inp)
            const r = evaluateSelfTest(inp, NOMINAL_PRESSURE_CAL)
            expect(r.ok).toBe(false)
            const { log, pump: p } = pump()
            expect(applySelfTest(5, r, p, log)).toBe(false)
            expect(p.state()).toBe("OutOfService")
            expect(p.outOfServiceText()).toMatch(why)
            expect(log.ofKind("SELFTEST_FAIL")[0].detail).toMatch(why)
            // Kept: a program cannot be loaded, and the reason survives until return to service.
            expect(p.loadProgram(10, { syringeId: "bd-plastipak-50", rateUlPerH: 1000, vtbiUl: 1000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }).ok).toBe(false)
            expect(p.outOfServiceText()).toMatch(why)
        })
    }

    it("a board without driver feedback is noted (operator confirms), not failed", () => {
        const inp = good()
        inp.buzzerOnMa = NaN
        inp.buzzerOffMa = NaN
        const r = evaluateSelfTest(inp, NOMINAL_PRESSURE_CAL)
        expect(r.ok).toBe(true)
        expect(r.notes.join()).toMatch(/buzzer: no driver feedback/)
    })
})
