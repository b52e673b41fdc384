// Board adapter: the hardware interfaces of src/hal/types.ts on the reference pump boards
// (boards/pump_ref_*.board.json, pin map, wiring and bill of materials in docs/boards.md).
// Motion: a TMC5160 on SPI (driver hal/tmc5160.ts, lease and verification hal/tmcStepEngine.ts).
// Pins come in as a parameter so this module works with any @dsboard that names them.
// Servers (buzzer, ADC) are started by the entry file: their config must be a compile-time
// literal naming `pins.X` of the imported @dsboard, so a pin passed in as a value cannot be used.
// Never import this from the simulator entry: ds.gpio throws there and board pins are undefined.

import * as ds from "@devicescript/core"
import { digitalRead, digitalWrite, pinMode } from "@devicescript/gpio"
import { spi } from "@devicescript/spi"
import { SensorSnapshot } from "../core/sensors"
import { OutputLine, REFERENCE_TMC_CONFIG, SpiBus, Tmc5160 } from "./tmc5160"
import { TmcStepEngine } from "./tmcStepEngine"
import { Indicators, PumpHardware } from "./types"

/** The named pins of a reference pump board that this adapter drives or reads. */
export interface BoardPins {
    /** TMC5160 SPI (mode 3). On RP2040 these must be SPI0 pins (the runtime reads SPI0). */
    TMC_SCK: ds.OutputPin
    TMC_MOSI: ds.OutputPin
    TMC_MISO: ds.InputPin
    /** Chip select, active low, driven as a GPIO around each 40-bit datagram. */
    TMC_CS: ds.OutputPin
    /** To DRV_ENN through the door switch (in series); active low: low = power stage on. A
     *  10 kΩ pull-up at DRV_ENN makes reset, boot and an open door all read as "off". */
    TMC_EN: ds.OutputPin
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

// ---- TMC5160 on SPI ------------------------------------------------------------------------

/** 1 MHz: well inside the TMC5160's 4 MHz SPI limit with the internal clock, and 5 µs a byte. */
export const TMC_SPI_HZ = 1000000

/** The board's hardware. The adapters are object literals over closures, not classes: a class
 *  costs a constructor and a prototype registration per method in the 64 KB function-bytecode
 *  budget (TODO-CODE-1). Set-up order: SPI (chip select high), enable line (high = stage off),
 *  LEDs, sensor inputs. */
export function createBoardHardware(pins: BoardPins, servers: BoardServers, name: string): PumpHardware {
    // TMC5160: one 40-bit datagram per chip-select low period over @devicescript/spi.
    const cs = pins.TMC_CS
    pinMode(cs, ds.GPIOMode.OutputHigh)
    spi.configure({ miso: pins.TMC_MISO, mosi: pins.TMC_MOSI, sck: pins.TMC_SCK, mode: 3, hz: TMC_SPI_HZ })
    const bus: SpiBus = {
        transfer: async (tx: number[]) => {
            const b = Buffer.from(tx)
            digitalWrite(cs, 0)
            let r: Buffer = null
            try {
                r = await spi.transfer(b)
            } finally {
                digitalWrite(cs, 1)
            }
            // The reply Buffer as it is (the driver reads it by index: no array per datagram).
            return r
        },
    }
    // Active-low enable into DRV_ENN (through the door switch).
    const en = pins.TMC_EN
    pinMode(en, ds.GPIOMode.OutputHigh)
    const enable: OutputLine = { write: (high: boolean) => digitalWrite(en, high ? 0 : 1) }
    const stepper = new TmcStepEngine(new Tmc5160(bus, REFERENCE_TMC_CONFIG), enable)
    const runPin = pins.LED_RUN
    const alarmPin = pins.LED_ALARM
    pinMode(runPin, ds.GPIOMode.OutputLow)
    pinMode(alarmPin, ds.GPIOMode.OutputLow)
    const indicators: Indicators = {
        setRunLed: async (on: boolean) => digitalWrite(runPin, on),
        setAlarmLed: async (on: boolean) => digitalWrite(alarmPin, on),
        beep: async (frequencyHz: number, durationMs: number) => {
            await servers.buzzer.playNote(frequencyHz, 1, durationMs)
        },
    }
    // Safety inputs: pulled up, so an open wire reads as the unsafe condition.
    pinMode(pins.AIR, ds.GPIOMode.InputPullUp)
    pinMode(pins.DOOR, ds.GPIOMode.InputPullUp)
    pinMode(pins.PLUNGER, ds.GPIOMode.InputPullUp)
    return {
        name: name,
        stepper: stepper,
        indicators: indicators,
        // Every safety input once per control tick, raw; calibration and thresholds are the core's.
        sensors: {
            read: async () => {
                const pressureCounts = counts(await servers.pressure.reading.read())
                const batteryCounts = counts(await servers.battery.reading.read())
                const positionCounts = counts(await servers.position.reading.read())
                return {
                    pressureAdc: pressureCounts,
                    airInLine: digitalRead(pins.AIR) !== 0,
                    doorOpen: digitalRead(pins.DOOR) !== 0,
                    plungerEngaged: digitalRead(pins.PLUNGER) === 0,
                    batteryMv: Math.floor((batteryCounts * BATTERY_FULL_SCALE_MV) / ADC_FULL_SCALE_COUNTS),
                    firedSteps: await stepper.firedCount(),
                    plungerPositionUm: positionCounts * POSITION_UM_PER_COUNT,
                }
            },
        },
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
