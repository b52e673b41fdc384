import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"

// REQ-LOG-010: a cause that repeats every tick while the pump is already alarming (a latched
// drive fault during the occlusion back-off) must not write a record per 20 ms tick: on the
// device that filled the RAM log, the flash log and the VM heap (OutOfMemory in the HIL).
describe("ALARM_EXTRA records (REQ-LOG-010)", () => {
    const program = { syringeId: "bd-plastipak-50", rateUlPerH: 10_000, vtbiUl: 5_000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }

    it("one record for a cause repeated 3,000 times (one minute of 20 ms ticks), a new record for a different cause", () => {
        const log = new EventLog(10_000)
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
        expect(pump.loadProgram(0, program).ok).toBe(true)
        expect(pump.start(0).ok).toBe(true)
        expect(pump.raiseAlarm(20, "OCCL_DOWN", "pressure rising").ok).toBe(true)
        for (let i = 0; i < 3000; i++) pump.raiseAlarm(40 + 20 * i, "DRIVE_FAULT", "step engine error: latched")
        expect(log.ofKind("ALARM_EXTRA").length).toBe(1)
        pump.raiseAlarm(70_000, "DRIVE_FAULT", "step engine error: SPI reply of wrong length")
        expect(log.ofKind("ALARM_EXTRA").length).toBe(2)
        // The same text again after a different one is a new record (alternating causes are kept).
        pump.raiseAlarm(70_020, "DRIVE_FAULT", "step engine error: latched")
        expect(log.ofKind("ALARM_EXTRA").length).toBe(3)
    })
})
