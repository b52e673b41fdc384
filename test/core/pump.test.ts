import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { InfusionProgram } from "../../src/core/program"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"

const PL = 173531 // BD 50 mL on the reference drive

function makePump() {
    const log = new EventLog(1000)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    return { pump, log }
}

const program: InfusionProgram = {
    syringeId: "bd-plastipak-50",
    rateUlPerH: 10_000, // 10 mL/h
    vtbiUl: 5_000,
    kvoRateUlPerH: 1_000,
    bolusUl: 1_000,
    bolusDurationS: 60,
}

/** Runs ticks from `from` to `to` ms (virtual clock) and returns the steps fired. */
function run(pump: PumpController, from: number, to: number, onTick?: (t: number) => void) {
    let steps = 0
    for (let t = from; t <= to; t += CONTROL_PERIOD_MS) {
        steps += pump.update(t).steps
        onTick?.(t)
    }
    return steps
}

describe("pump controller", () => {
    it("10 mL/h with VTBI 5 mL completes at 30 min and switches to KVO at 1 mL/h", () => {
        const { pump, log } = makePump()
        expect(pump.loadProgram(0, program).ok).toBe(true)
        expect(pump.start(0).ok).toBe(true)
        let kvoAt = -1
        run(pump, 0, 1_900_000, t => {
            if (kvoAt < 0 && pump.state() === "KVO") kvoAt = t
        })
        // 5 mL / 10 mL/h = 1800 s; the last whole microstep is owed ≤ one step (62 ms) earlier.
        expect(kvoAt).toBeGreaterThan(1_800_000 - 100)
        expect(kvoAt).toBeLessThanOrEqual(1_800_000 + CONTROL_PERIOD_MS)
        expect(log.ofKind("VTBI_DONE")).toHaveLength(1)
        // KVO 1 mL/h for the remaining ~100 s ≈ 27.8 µL more.
        const kvoSteps = run(pump, 1_900_020, 1_900_020 + 3_600_000)
        expect(Math.abs((kvoSteps * PL) / 1e6 - 1000)).toBeLessThan(1)
    })

    it("never delivers more than VTBI: 5 mL ends at floor(5e9 pL / 173531 pL) = 28813 steps", () => {
        const { pump } = makePump()
        pump.loadProgram(0, { ...program, kvoRateUlPerH: 0 })
        pump.start(0)
        run(pump, 0, 2_000_000)
        expect(pump.state()).toBe("Complete")
        expect(pump.stepsCommanded()).toBe(28813)
        expect(pump.status().infusedUl).toBe(4999) // 28813 × 173.531 nL = 4999.85 µL
    })

    it("delivers 1 h at 10 mL/h as 10 mL within one microstep, counted from commanded steps", () => {
        const { pump } = makePump()
        pump.loadProgram(0, { ...program, vtbiUl: 50_000 })
        pump.start(0)
        const steps = run(pump, 0, 3_600_000)
        expect(pump.stepsCommanded()).toBe(steps)
        const ul = (steps * PL) / 1e6
        expect(10_000 - ul).toBeGreaterThanOrEqual(0)
        expect(10_000 - ul).toBeLessThan(PL / 1e6)
        expect(pump.status().infusedUl).toBe(Math.floor(ul))
    })

    it("bolus of 1 mL over 60 s runs at 60 mL/h, counts toward VTBI, then returns to the primary rate", () => {
        const { pump, log } = makePump()
        pump.loadProgram(0, { ...program, vtbiUl: 50_000 })
        pump.start(0)
        run(pump, 0, 60_000)
        const beforeUl = pump.status().infusedUl
        expect(pump.bolus(60_000).ok).toBe(true)
        expect(pump.state()).toBe("Bolus")
        let doneAt = -1
        run(pump, 60_020, 130_000, t => {
            if (doneAt < 0 && pump.state() === "Running") doneAt = t
        })
        expect(doneAt).toBeGreaterThan(60_000 + 59_000)
        expect(doneAt).toBeLessThanOrEqual(60_000 + 60_000 + CONTROL_PERIOD_MS)
        expect(Math.abs(pump.status().bolusUl - 1000)).toBeLessThanOrEqual(1)
        expect(log.ofKind("BOLUS_DONE")).toHaveLength(1)
        // 60 s primary + 60 s bolus + 10 s primary: 166.7 + 1000 + 27.8 µL
        expect(Math.abs(pump.status().infusedUl - (beforeUl + 1000 + 27.8))).toBeLessThan(2)
    })

    it("a front-panel bolus of 2 mL over 30 s (240 mL/h) replaces the programmed one; a bolus beyond the pump maximum is refused", () => {
        const { pump, log } = makePump()
        pump.loadProgram(0, { ...program, vtbiUl: 50_000, bolusUl: 0, bolusDurationS: 0 })
        pump.start(0)
        run(pump, 0, 1_000)
        // 10 mL in 10 s = 3600 mL/h, above the 1200 mL/h pump maximum: refused, nothing changes.
        expect(pump.bolus(1_000, 10_000, 10).ok).toBe(false)
        expect(pump.state()).toBe("Running")
        expect(log.ofKind("CMD_REJECTED").length).toBe(1)
        expect(pump.bolus(1_000, 2_000, 30).ok).toBe(true)
        expect(log.ofKind("BOLUS_SET")[0].detail).toBe("bolus=2000uL/30s")
        run(pump, 1_020, 40_000)
        expect(Math.abs(pump.status().bolusUl - 2000)).toBeLessThanOrEqual(1)
        expect(pump.state()).toBe("Running")
    })

    it("refuses a bolus when none is programmed", () => {
        const { pump, log } = makePump()
        pump.loadProgram(0, { ...program, bolusUl: 0, bolusDurationS: 0 })
        pump.start(0)
        expect(pump.bolus(0)).toEqual({ ok: false, reason: "no bolus is programmed" })
        expect(log.ofKind("CMD_REJECTED")[0].detail).toBe("bolus: no bolus is programmed")
    })

    it("delivers nothing while paused and resumes at the same rate", () => {
        const { pump } = makePump()
        pump.loadProgram(0, { ...program, vtbiUl: 50_000 })
        pump.start(0)
        run(pump, 0, 10_000)
        pump.pause(10_000)
        expect(run(pump, 10_020, 70_000)).toBe(0)
        pump.resume(70_000)
        const steps = run(pump, 70_020, 70_000 + 3_600_000)
        expect(Math.abs((steps * PL) / 1e6 - 10_000)).toBeLessThan(1)
    })

    it("a high-priority alarm stops the motor on the next tick and never restarts delivery by itself", () => {
        const { pump } = makePump()
        pump.loadProgram(0, program)
        pump.start(0)
        run(pump, 0, 5_000)
        pump.raiseAlarm(5_000, "OCCL_DOWN", "test")
        const out = pump.update(5_020)
        expect(out).toEqual({ steps: 0, forward: true, motorEnabled: false })
        expect(pump.status().alarmCode).toBe("OCCL_DOWN")
        expect(pump.resetAlarm(6_000).ok).toBe(true)
        expect(pump.state()).toBe("Paused")
        expect(run(pump, 6_020, 20_000)).toBe(0)
    })

    it("rejects illegal commands with a reason and logs them", () => {
        const { pump, log } = makePump()
        expect(pump.start(0)).toEqual({ ok: false, reason: "'start' is not allowed in state Idle" })
        const bad = pump.loadProgram(0, { ...program, rateUlPerH: 2_000_000 })
        expect(bad.ok).toBe(false)
        expect(bad.reason).toMatch(/rateUlPerH/)
        expect(pump.state()).toBe("Idle")
        expect(log.ofKind("CMD_REJECTED").map(e => e.detail)).toEqual([
            "start: 'start' is not allowed in state Idle",
            "program: " + bad.reason,
        ])
    })

    it("a new program is refused while running (no silent retitration)", () => {
        const { pump } = makePump()
        pump.loadProgram(0, program)
        pump.start(0)
        expect(pump.loadProgram(100, { ...program, rateUlPerH: 20_000 }).ok).toBe(false)
        expect(pump.status().program.rateUlPerH).toBe(10_000)
    })

    it("logs a loop overrun and does not make up the lost time with a burst", () => {
        const { pump, log } = makePump()
        pump.loadProgram(0, { ...program, rateUlPerH: 1_000_000, vtbiUl: 50_000 })
        pump.start(0)
        run(pump, 0, 1_000)
        const steps = pump.update(6_000).steps // 5 s stall at 1000 mL/h
        // at most 3 periods' worth: 1000 mL/h · 3 periods / 173,531 pL a step (BD 50 mL)
        // (300 ms at the 100 ms period: 83.3 µL = 480.2 steps)
        const threePeriodsSteps = (1_000_000 * 1e6 * 3 * CONTROL_PERIOD_MS) / 3_600_000 / 173_531
        expect(steps).toBeLessThanOrEqual(Math.ceil(threePeriodsSteps))
        expect(steps).toBeGreaterThan(0)
        expect(log.ofKind("LOOP_OVERRUN")).toHaveLength(1)
    })

    it("out of service refuses programming until returned to service", () => {
        const { pump } = makePump()
        expect(pump.setOutOfService(0, "cracked case").ok).toBe(true)
        expect(pump.outOfServiceText()).toBe("cracked case")
        expect(pump.loadProgram(0, program).ok).toBe(false)
        expect(pump.returnToService(1).ok).toBe(true)
        expect(pump.loadProgram(2, program).ok).toBe(true)
    })

    it("logs every state change with a sequence number", () => {
        const { pump, log } = makePump()
        pump.loadProgram(0, program)
        pump.start(0)
        pump.pause(1)
        const states = log.ofKind("STATE").map(e => e.detail)
        expect(states).toEqual(["Idle->Programmed (program)", "Programmed->Running (start)", "Running->Paused (pause)"])
        const seqs = log.all().map(e => e.seq)
        expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    })
})

describe("event log ring", () => {
    it("keeps the newest records and counts what it overwrote", () => {
        const log = new EventLog(3)
        for (let i = 0; i < 5; i++) log.record(i, "STATE", "" + i)
        expect(log.all().map(e => e.seq)).toEqual([3, 4, 5])
        expect(log.overwrittenCount()).toBe(2)
        expect(log.lastSeq()).toBe(5)
    })
})
