import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { programDose } from "../../src/core/druglib/dosing"
import { titrateDose } from "../../src/core/druglib/titrate"
import { compileTest, dopamine } from "./fixture"

const { lib } = compileTest()

function running() {
    const log = new EventLog(200)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    const active = dopamine(5000)
    const r = programDose(lib, active, log, 0)
    expect(pump.loadProgram(0, r.program).ok).toBe(true)
    expect(pump.start(0).ok).toBe(true)
    for (let t = 0; t <= 2000; t += 20) pump.update(t)
    return { pump, log, active }
}

describe("retitration of a running infusion", () => {
    it("within limits: 10 mcg/kg/min at 70 kg, 1600 mcg/mL = 26.25 mL/h", () => {
        const { pump, log, active } = running()
        const r = titrateDose(pump, lib, active, 10000, [], log, 2000)
        expect(r.check.status).toBe("ok")
        expect(r.command!.ok).toBe(true)
        expect(pump.status().program.rateUlPerH).toBe(26250)
        expect(pump.state()).toBe("Running")
        expect(log.ofKind("DERS_TITRATE").length).toBe(1)
    })

    it("past the hard limit is refused and the running rate is unchanged", () => {
        const { pump, log, active } = running()
        const r = titrateDose(pump, lib, active, 20001, ["dose"], log, 2000)
        expect(r.check.status).toBe("refused")
        expect(r.check.reasons[0]).toBe("dose 20.001 mcg/kg/min is above the hard maximum 20.000 mcg/kg/min")
        expect(r.command).toBe(null)
        expect(pump.status().program.rateUlPerH).toBe(13125)
        pump.update(2020)
        expect(pump.status().rateUlPerH).toBe(13125)
    })

    it("past a soft limit needs confirmation; confirmed it is logged and applied (also while paused)", () => {
        const { pump, log, active } = running()
        expect(titrateDose(pump, lib, active, 16000, [], log, 2000).check.status).toBe("confirm")
        expect(pump.status().program.rateUlPerH).toBe(13125)
        pump.pause(2000)
        const r = titrateDose(pump, lib, active, 16000, ["dose"], log, 2000)
        expect(r.command!.ok).toBe(true)
        expect(pump.state()).toBe("Paused")
        expect(pump.status().program.rateUlPerH).toBe(42000) // 16*70*60/1600
        expect(log.ofKind("DERS_OVERRIDE")[0].detail).toContain("dose=16.000 mcg/kg/min beyond softMax 15.000")
    })

    it("the pump refuses titrate outside Running/Paused", () => {
        const log = new EventLog(10)
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
        expect(pump.titrate(0, 5000).reason).toBe("'titrate' is not allowed in state Idle")
    })

    it("the pump still applies its own range to a titrated rate", () => {
        const { pump } = running()
        expect(pump.titrate(3000, 50).ok).toBe(false)
        expect(pump.status().program.rateUlPerH).toBe(13125)
    })
})
