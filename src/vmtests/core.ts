// In-VM tests (`npm run test:vm`): the same src/core modules the host tests exercise, run by
// the DeviceScript VM, must give the same numbers. Expected values are computed by hand from
// physics (see comments), not copied from a host run.

import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { EventLog } from "../core/eventLog"
import { StepPlanner } from "../core/planner"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../core/pump"
import { SensorSnapshot } from "../core/sensors"
import { runControlTick } from "../core/tick"
import { findSyringe, picolitresPerMicrostep, REFERENCE_MECHANICS } from "../core/syringe"
import { formatThousandths, parseThousandths } from "../core/units"
import { controlTick, createPump, createSafetyState, DriveState } from "../firmware/control"
import { PumpHardware } from "../hal/types"
import { createSimHardware, SimSensors } from "../hal/sim"
import { SAFETY_DEFAULTS, SafetyMonitor } from "../core/safety/monitor"
import { AlarmManager, HIGH_PATTERN, pulseOn } from "../core/safety/alarmManager"
import { crc16 } from "../core/safety/selfTest"
import { datagram, hasBit } from "../hal/tmc5160"
import { gcd } from "../core/druglib/exact"

describe("dosing core under the DeviceScript VM", () => {
    test("BD 50 mL step volume: pi*(13.295 mm)^2/3200 = 173531 pL", () => {
        expect(picolitresPerMicrostep(findSyringe("bd-plastipak-50"), REFERENCE_MECHANICS)).toBe(173531)
    })

    test("integer unit parsing and formatting", () => {
        expect(parseThousandths("0.1")).toBe(100)
        expect(parseThousandths("1200")).toBe(1200000)
        expect(isNaN(parseThousandths("1e3"))).toBe(true)
        expect(formatThousandths(5000)).toBe("5.000")
        expect(formatThousandths(7)).toBe("0.007")
    })

    test("1 h at 10 mL/h = floor(1e10 pL / 173531 pL) = 57626 microsteps", async () => {
        const p = new StepPlanner({ picolitresPerMicrostep: 173531, accelStepsPerS2: 1000000000, maxTickMs: 1000 })
        let steps = 0
        for (let i = 0; i < 3600; i++) {
            steps += p.plan(10000, 1000, 1000000000).steps
            if (i % 200 === 0) await ds.sleep(0)
        }
        expect(steps).toBe(57626)
    })

    test("24 h at 0.1 mL/h with 997 ms ticks = floor(2.4e9 pL / 173531) = 13830 microsteps", async () => {
        const p = new StepPlanner({ picolitresPerMicrostep: 173531, accelStepsPerS2: 1000000000, maxTickMs: 1000 })
        let steps = 0
        let t = 0
        let i = 0
        const day = 86400000
        while (t < day) {
            const dt = day - t < 997 ? day - t : 997
            t += dt
            steps += p.plan(100, dt, 1000000000).steps
            i++
            if (i % 200 === 0) await ds.sleep(0)
        }
        expect(steps).toBe(13830)
    })

    test("pump: VTBI 100 uL at 10 mL/h completes with floor(1e8/173531) = 576 steps", async () => {
        const log = new EventLog(64)
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
        expect(
            pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: 10000, vtbiUl: 100, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }).ok
        ).toBe(true)
        expect(pump.start(0).ok).toBe(true)
        let t = 0
        while (t <= 40000) {
            pump.update(t)
            t += 20
            if (t % 1000 === 0) await ds.sleep(0)
        }
        expect(pump.state()).toBe("Complete")
        expect(pump.stepsCommanded()).toBe(576)
        expect(pump.status().infusedUl).toBe(99)
    })

    test("illegal command is rejected with its reason", () => {
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, new EventLog(8))
        expect(pump.start(0).reason).toBe("'start' is not allowed in state Idle")
    })

    test("a step engine that throws raises DRIVE_FAULT and stops the pump", async () => {
        const log = new EventLog(32)
        const pump = createPump(log)
        const hw: PumpHardware = {
            name: "failing",
            stepper: {
                init: async () => {},
                enable: async (on: boolean) => {},
                queue: async (steps: number, forward: boolean, windowMs: number) => {
                    throw new Error("i2c nack")
                },
                firedCount: async () => 0,
            },
            indicators: { setRunLed: async (on: boolean) => {}, setAlarmLed: async (on: boolean) => {}, beep: async (f: number, d: number) => {} },
            sensors: createSimHardware(() => ds.millis()).sensors,
        }
        const safety = createSafetyState(new SafetyMonitor(pump, log, SAFETY_DEFAULTS))
        pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: 100000, vtbiUl: 1000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 })
        pump.start(0)
        const drive: DriveState = { motorOn: false }
        for (let t = 0; t <= 200; t += 20) {
            await controlTick(hw, pump, drive, t, safety)
            // Each firmware tick is its own scheduler turn (clock.every); yield as it does, or
            // eleven ticks share one turn's 131,072-opcode budget with the next test.
            await ds.sleep(0)
        }
        expect(pump.state()).toBe("Alarm")
        expect(pump.status().alarmCode).toBe("DRIVE_FAULT")
        expect(drive.motorOn).toBe(false)
    })
})

describe("TMC5160 datagram bytes under the DeviceScript VM (its % is int32 at run time)", () => {
    test("negative targets go out as two's complement bytes: -1 = ff ff ff ff, -513 = ff ff fd ff", () => {
        // A runtime `x % 256` on 4294967295 is -1 in this VM; the HIL found XTARGET -1 read back as -513.
        const a = datagram(0xad, -1)
        expect(a[0] === 0xad && a[1] === 255 && a[2] === 255 && a[3] === 255 && a[4] === 255).toBe(true)
        const b = datagram(0xad, -513)
        expect(b[1] === 255 && b[2] === 255 && b[3] === 253 && b[4] === 255).toBe(true)
        const c = datagram(0x2d, 2147483648)
        expect(c[1] === 128 && c[2] === 0 && c[3] === 0 && c[4] === 0).toBe(true)
    })
    test("gcd of values above 2^31 (dose arithmetic): gcd(4294967295, 255) = 255, gcd(6000000000, 4000000000) = 2000000000", () => {
        expect(gcd(4294967295, 255)).toBe(255)
        expect(gcd(6000000000, 4000000000)).toBe(2000000000)
    })
    test("umod (REQ-DRV-005): formatThousandths(4294967295) = 4294967.295, not 4294967.00-1 (int32 %)", () => {
        expect(formatThousandths(4294967295)).toBe("4294967.295")
        expect(formatThousandths(-2147483649)).toBe("-2147483.649")
    })
    test("alarm tone 24.8 days after the alarm: t = 8000 x 268436 ms (> 2^31) plus half a pulse sounds, plus the gap after it does not", () => {
        // 8000 ms burst period: t mod 8000 is the offset in the burst. The first pulse is
        // pulses[0]..pulses[0] + pulseMs; the gap after it ends at pulses[1]. With int32 % the
        // offset would be negative and nothing would sound.
        const t0 = 8000 * 268436
        const p = HIGH_PATTERN
        expect(pulseOn(p, t0 + p.pulses[0] + p.pulseMs / 2)).toBe(true)
        expect(pulseOn(p, t0 + (p.pulses[0] + p.pulseMs + p.pulses[1]) / 2)).toBe(false)
    })
    test("bit 0 of a register value at or above 2^31 reads correctly", () => {
        expect(hasBit(4294967295, 1)).toBe(true)
        expect(hasBit(4294967294, 1)).toBe(false)
        expect(hasBit(2147483648, 2147483648)).toBe(true)
    })
})

describe("safety core under the DeviceScript VM", () => {
    test("CRC-16/CCITT-FALSE('123456789') = 0x29B1", () => {
        expect(crc16("123456789")).toBe(0x29b1)
    })

    test("high-priority burst: 10 rising edges in 8 s; latch needs ack and cause gone", async () => {
        let edges = 0
        let prev = false
        // Every pulse start and gap is a multiple of 50 ms, so 50 ms sampling sees each edge.
        for (let t = 0; t < 8000; t += 50) {
            const on = pulseOn(HIGH_PATTERN, t)
            if (on && !prev) edges++
            prev = on
            if (t % 1000 === 0) await ds.sleep(0)
        }
        expect(edges).toBe(10)
        const m = new AlarmManager(new EventLog(16))
        m.setCause(0, "DOOR_OPEN", true, "")
        m.setCause(20, "DOOR_OPEN", false, "")
        expect(m.isLatched("DOOR_OPEN")).toBe(true)
        m.acknowledge(40)
        expect(m.isLatched("DOOR_OPEN")).toBe(false)
    })

    test("door opened mid-infusion: the motor stops in the same control tick", async () => {
        const log = new EventLog(64)
        const pump = createPump(log)
        // The controller model runs on the loop's virtual clock (the loop steps faster than real time).
        const clock = { t: 0 }
        const hw = createSimHardware(() => clock.t)
        const safety = createSafetyState(new SafetyMonitor(pump, log, SAFETY_DEFAULTS))
        pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: 100000, vtbiUl: 10000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 })
        pump.start(0)
        const drive: DriveState = { motorOn: false }
        let t = 0
        // Each tick yields, as the timer-driven loop does between ticks.
        for (; t <= 2000; t += 20) {
            clock.t = t
            await controlTick(hw, pump, drive, t, safety)
            await ds.sleep(0)
        }
        // The door opens at t.
        clock.t = t
        expect((await hw.stepper.firedCount()) > 0).toBe(true)
        const sensors = hw.sensors as SimSensors
        sensors.doorOpen = true
        await controlTick(hw, pump, drive, t, safety)
        expect(pump.state()).toBe("Alarm")
        expect(drive.motorOn).toBe(false)
        // The pusher (the controller model's shaft) does not move again: enable off, door
        // interlock open, target := actual.
        const atStop = (await sensors.read()).plungerPositionUm
        clock.t = t + 1000
        expect((await sensors.read()).plungerPositionUm).toBe(atStop)
        expect(safety.monitor.annunciation(t).code).toBe("DOOR_OPEN")
    })
})


describe("garbled sensor snapshot under the DeviceScript VM", () => {
    // The monitor's numeric check (+x === x) must reject exactly what typeof/isNaN rejects, with
    // the VM's own conversions: a numeric string, null, a boolean, undefined and NaN are garbled;
    // a plain number (and Infinity, which the range checks catch) is not.
    test("string, null, boolean, undefined and NaN pressure counts log SENSOR_GARBLED; numbers do not", () => {
        // The first five are garbled, the last three are numbers.
        const all: any[] = ["516", null, true, undefined, NaN, 516, 516.5, Infinity]
        for (let i = 0; i < all.length; i++) {
            const log = new EventLog(64)
            const monitor = new SafetyMonitor(new PumpController(REFERENCE_PUMP_CONFIG, log), log, SAFETY_DEFAULTS)
            const snap: any = { pressureAdc: all[i], airInLine: false, doorOpen: false, plungerEngaged: true, batteryMv: 3900, firedSteps: 0, plungerPositionUm: 1000 }
            monitor.check(20, snap)
            expect(log.ofKind("SENSOR_GARBLED").length).toBe(i < 5 ? 1 : 0)
        }
    })
})

describe("control-tick opcode budget (REQ-BUD-001)", () => {
    // The VM panics (InfiniteLoop) when one fiber turn runs 131,072 opcodes (DEVS_MAX_STEPS).
    // A hundred steady-state ticks back to back in ONE turn (10 s at 100 ms: ten of them run the
    // once-a-second pass) therefore fit only while a tick costs under ~1,310 opcodes on average
    // (this loop's own work included); bench:device measures the exact figures (issue 16: quiet
    // tick ~1,000, pass tick ~2,200; before the cut 1,092 and 4,370, a mean of ~1,420, which
    // panics here). A panic fails the run.
    test("100 steady-state ticks at 1 mL/h run in one scheduler turn (< 1,310 opcodes a tick on average, the once-a-second pass included)", async () => {
        const log = new EventLog(64)
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
        const monitor = new SafetyMonitor(pump, log, SAFETY_DEFAULTS)
        pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: 1000, vtbiUl: 50000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 })
        pump.start(0)
        const snap: SensorSnapshot = { pressureAdc: 516, airInLine: false, doorOpen: false, plungerEngaged: true, batteryMv: 3900, firedSteps: 0, plungerPositionUm: 1000 }
        let t = 0
        let steps = 0
        const tick = () => {
            t += CONTROL_PERIOD_MS
            snap.pressureAdc += (t / CONTROL_PERIOD_MS) % 2 === 0 ? 1 : -1
            const a = runControlTick(t, snap, monitor, pump)
            steps += a.forwardSteps - a.reverseSteps
            snap.firedSteps = steps
        }
        // 32 s first, so the once-a-second filters are full (31-sample median).
        for (let i = 0; i < 1600; i++) {
            tick()
            if (i % 10 === 9) await ds.sleep(0)
        }
        await ds.sleep(0)
        for (let i = 0; i < 100; i++) tick()
        expect(pump.state()).toBe("Running")
    })
})
