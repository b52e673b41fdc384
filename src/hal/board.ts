// Board adapter: the hardware interfaces of src/hal/types.ts on the reference pump boards
// (boards/pump_ref_*.board.json, pin map and co-processor protocol in docs/boards.md).
// Pins come in as a parameter so this module works with any @dsboard that names them.
// Servers (buzzer, ADC) are started by the entry file: their config must be a compile-time
// literal naming `pins.X` of the imported @dsboard, so a pin passed in as a value cannot be used.
// Never import this from the simulator entry: ds.gpio throws there and board pins are undefined.

import * as ds from "@devicescript/core"
import { digitalRead, digitalWrite, pinMode } from "@devicescript/gpio"
import { i2c } from "@devicescript/i2c"
import { SensorSnapshot } from "../core/sensors"
import { Indicators, PumpHardware, Sensors, StepEngine } from "./types"

/** The named pins of a reference pump board that this adapter drives or reads. */
export interface BoardPins {
    /** Driver enable, high = enabled; pulled down on the board so reset/boot = disabled. */
    STEP_EN: ds.OutputPin
    /** Pulled up; the co-processor holds it low while healthy. High = fault (or co-processor gone). */
    STEP_FAULT: ds.InputPin
    LED_RUN: ds.OutputPin
    LED_ALARM: ds.OutputPin
    /** Air-in-line detector: pulled up, the detector pulls it low while it sees liquid. */
    AIR: ds.InputPin
    /** Door / syringe clamp switch to GND: low = closed. */
    DOOR: ds.InputPin
    /** Plunger-engaged switch to GND: low = engaged. */
    PLUNGER: ds.InputPin
}

/** Servers the entry file starts on the board's pins (see the header comment), e.g.
 *  `startBuzzer({ pin: pins.BUZZER })`, `startPotentiometer({ pin: pins.PRESSURE })`. */
export interface BoardServers {
    /** Buzzer on pins.BUZZER. */
    buzzer: ds.Buzzer
    /** Analog reading 0..1 of pins.PRESSURE (plunger force / line pressure sensor). */
    pressure: ds.Potentiometer
    /** Analog reading 0..1 of pins.BATTERY (battery voltage divider). */
    battery: ds.Potentiometer
    /** Analog reading 0..1 of pins.POSITION (linear potentiometer on the pusher). */
    position: ds.Potentiometer
}

// ---- step pulse co-processor, I2C register protocol (docs/boards.md) ----------------------

export const STEP_ENGINE_ADDR = 0x2a
/** W/R u8: 1 = accept queue and run, 0 = flush queue and stop pulsing at once. */
export const REG_ENABLE = 0x01
/** W 5 bytes: u16 steps LE, u8 direction (1 = forward/infuse), u16 window ms LE. */
export const REG_QUEUE = 0x02
/** R i32 LE: signed microsteps fired since power-up (+forward, -reverse). */
export const REG_FIRED = 0x03
/** R u8: status bits below; UNDERRUN, OVERFLOW and BAD_COMMAND clear on read. */
export const REG_STATUS = 0x04

/** Driver fault, stall or co-processor internal error; latched until ENABLE 0. */
export const STATUS_FAULT = 0x01
/** A window ended with no next one queued while pulsing (a late tick); informational. */
export const STATUS_UNDERRUN = 0x02
/** A QUEUE write was dropped because two windows were already pending. */
export const STATUS_OVERFLOW = 0x04
/** A malformed write (wrong length, window 0, rate above the driver limit) was ignored. */
export const STATUS_BAD_COMMAND = 0x08
/** Status bits that mean commanded steps were not or will not be fired as asked. */
export const STATUS_STOP_MASK = STATUS_FAULT | STATUS_OVERFLOW | STATUS_BAD_COMMAND

/** Names of the set status bits, for the DRIVE_FAULT record. */
export function statusText(status: number): string {
    let t = ""
    if (status & STATUS_FAULT) t += " FAULT"
    if (status & STATUS_UNDERRUN) t += " UNDERRUN"
    if (status & STATUS_OVERFLOW) t += " OVERFLOW"
    if (status & STATUS_BAD_COMMAND) t += " BAD_COMMAND"
    return t.length > 0 ? t.slice(1) : "OK"
}

function checkFaultPin(faultPin: ds.InputPin) {
    if (digitalRead(faultPin) !== 0) throw new Error("STEP_FAULT asserted")
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class I2CStepEngine implements StepEngine {
    private readonly enPin: ds.OutputPin
    private readonly faultPin: ds.InputPin

    constructor(enPin: ds.OutputPin, faultPin: ds.InputPin) {
        this.enPin = enPin
        this.faultPin = faultPin
        pinMode(enPin, ds.GPIOMode.OutputLow)
        pinMode(faultPin, ds.GPIOMode.InputPullUp)
    }

    async enable(on: boolean) {
        if (on) {
            // Co-processor first: if it does not answer, the driver stays de-energised.
            checkFaultPin(this.faultPin)
            await i2c.writeReg(STEP_ENGINE_ADDR, REG_ENABLE, 1)
            digitalWrite(this.enPin, 1)
        } else {
            // Pin first: the driver is off even if the I2C write below fails.
            digitalWrite(this.enPin, 0)
            await i2c.writeReg(STEP_ENGINE_ADDR, REG_ENABLE, 0)
        }
    }

    async queue(steps: number, forward: boolean, windowMs: number) {
        if (!(steps >= 0 && steps <= 0xffff && Math.floor(steps) === steps))
            throw new RangeError("steps out of range: " + steps)
        if (!(windowMs >= 1 && windowMs <= 0xffff && Math.floor(windowMs) === windowMs))
            throw new RangeError("window out of range: " + windowMs)
        checkFaultPin(this.faultPin)
        const cmd = Buffer.alloc(5)
        cmd.setAt(0, "u16", steps)
        cmd[2] = forward ? 1 : 0
        cmd.setAt(3, "u16", windowMs)
        await i2c.writeRegBuf(STEP_ENGINE_ADDR, REG_QUEUE, cmd)
        const status = await i2c.readReg(STEP_ENGINE_ADDR, REG_STATUS)
        if ((status & STATUS_STOP_MASK) !== 0) throw new Error("step engine status " + statusText(status))
    }

    async firedCount() {
        const b = await i2c.readRegBuf(STEP_ENGINE_ADDR, REG_FIRED, 4)
        return b.getAt(0, "i32")
    }
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class BoardIndicators implements Indicators {
    private readonly runPin: ds.OutputPin
    private readonly alarmPin: ds.OutputPin
    private readonly buzzer: ds.Buzzer

    constructor(pins: BoardPins, buzzer: ds.Buzzer) {
        this.runPin = pins.LED_RUN
        this.alarmPin = pins.LED_ALARM
        this.buzzer = buzzer
        pinMode(this.runPin, ds.GPIOMode.OutputLow)
        pinMode(this.alarmPin, ds.GPIOMode.OutputLow)
    }

    async setRunLed(on: boolean) {
        digitalWrite(this.runPin, on)
    }

    async setAlarmLed(on: boolean) {
        digitalWrite(this.alarmPin, on)
    }

    async beep(frequencyHz: number, durationMs: number) {
        await this.buzzer.playNote(frequencyHz, 1, durationMs)
    }
}

export function createBoardHardware(pins: BoardPins, servers: BoardServers, name?: string): PumpHardware {
    const stepper = new I2CStepEngine(pins.STEP_EN, pins.STEP_FAULT)
    return {
        name: name ? name : "board",
        stepper: stepper,
        indicators: new BoardIndicators(pins, servers.buzzer),
        sensors: new PinSensors(pins, servers, stepper),
    }
}

// ---- sensors -----------------------------------------------------------------------------

/** The safety monitor's units: a 12-bit ADC count, as the reference pressure front end and the
 *  plant model use. The DeviceScript analog server reports a 0..1 fraction of full scale. */
export const ADC_FULL_SCALE_COUNTS = 4095
/** Battery divider: 1:2 into a 3.3 V ADC, so 0..6.6 V for a single Li-ion cell (3.0-4.2 V). */
export const BATTERY_FULL_SCALE_MV = 6600
/** Pusher position potentiometer: 90 mm over the full ADC range = 22 µm per count. */
export const POSITION_UM_PER_COUNT = 22

function counts(fraction: number): number {
    // A missing or non-numeric reading stays NaN: the safety monitor treats it as a sensor fault.
    if (typeof fraction !== "number" || fraction !== fraction) return NaN
    return Math.floor(fraction * ADC_FULL_SCALE_COUNTS + 0.5)
}

/** Reads every safety input once per control tick, raw; calibration and thresholds are the
 *  core's. Switch inputs are pulled up so an open wire reads as the unsafe condition.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class PinSensors implements Sensors {
    private readonly servers: BoardServers
    private readonly pins: BoardPins
    private readonly stepper: StepEngine

    constructor(pins: BoardPins, servers: BoardServers, stepper: StepEngine) {
        this.pins = pins
        this.servers = servers
        this.stepper = stepper
        pinMode(pins.AIR, ds.GPIOMode.InputPullUp)
        pinMode(pins.DOOR, ds.GPIOMode.InputPullUp)
        pinMode(pins.PLUNGER, ds.GPIOMode.InputPullUp)
    }

    async read(): Promise<SensorSnapshot> {
        const pressureCounts = counts(await this.servers.pressure.reading.read())
        const batteryCounts = counts(await this.servers.battery.reading.read())
        const positionCounts = counts(await this.servers.position.reading.read())
        return {
            pressureAdc: pressureCounts,
            airInLine: digitalRead(this.pins.AIR) !== 0,
            doorOpen: digitalRead(this.pins.DOOR) !== 0,
            plungerEngaged: digitalRead(this.pins.PLUNGER) === 0,
            batteryMv: Math.floor((batteryCounts * BATTERY_FULL_SCALE_MV) / ADC_FULL_SCALE_COUNTS),
            firedSteps: await this.stepper.firedCount(),
            plungerPositionUm: positionCounts * POSITION_UM_PER_COUNT,
        }
    }
}


