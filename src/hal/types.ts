import { Clock } from "../core/clock"
import { PageStore } from "../core/log/pageStore"
import { HmacSha256 } from "../core/remote/auth"
import { SensorSnapshot } from "../core/sensors"

// Hardware adapter interfaces. The control loop talks only to these; the board adapter
// implements them with pins from boards/*.board.json and the simulator adapter with in-VM
// fakes, because ds.gpio throws and board pins are undefined in the simulator.

/** The motion controller (a TMC5160 in positioning mode, hal/tmcStepEngine.ts). TypeScript
 *  cannot time pulses (<10 ms), so the chip's own ramp generator moves the motor to an absolute
 *  target the loop advances every tick (see docs/architecture.md). Every method throws on a
 *  drive fault; once one is seen the engine stays latched (the loop raises DRIVE_FAULT). */
export interface StepEngine {
    /** Configure and verify the controller; throws (latched) if it is missing or wrong. */
    init(): Promise<void>
    /** true: start a new lease run at the actual position, then energise the stage.
     *  false: drop the enable line first, then hold target = actual. */
    enable(on: boolean): Promise<void>
    /** Advance the absolute target by `steps` microsteps owed this tick, then verify the chip. */
    queue(steps: number, forward: boolean, windowMs: number): Promise<void>
    /** Microsteps moved since configuration, from the controller's XACTUAL. */
    firedCount(): Promise<number>
}

export interface Indicators {
    setRunLed(on: boolean): Promise<void>
    setAlarmLed(on: boolean): Promise<void>
    beep(frequencyHz: number, durationMs: number): Promise<void>
}

/** All safety sensors, read once per control tick. */
export interface Sensors {
    read(): Promise<SensorSnapshot>
}

/** Driver current feedback for the power-on self-test; NaN when the board has no sense resistor. */
export interface IndicatorFeedback {
    buzzerCurrentMa(): Promise<number>
    alarmLedCurrentMa(): Promise<number>
}

export interface PumpHardware {
    name: string
    stepper: StepEngine
    indicators: Indicators
    /** Required: every adapter feeds the safety monitor; there is no tick without it. */
    sensors: Sensors
    feedback?: IndicatorFeedback
}

/** A PageStore kept in settings flash: a RAM mirror loaded once at power-up and flushed by the
 *  background writer (MirrorPageStore in src/core/persist/mirrorPageStore.ts, on the device and in host tests). */
export interface FlashPageStore extends PageStore {
    /** Reads every slot into the mirror; returns how many slots could not be read. */
    load(): Promise<number>
    /** Writes dirty slots to flash; concurrent callers wait for the running flush. */
    flush(): Promise<void>
    pending(): number
    /** Writes whose read-back differed or threw (REQ-PERS-010); the slot stays unsaved. */
    failures: number
    /** Why the last one failed (key and what the read-back showed). */
    lastFailure: string
}

/** Settings flash as the firmware uses it (device: @devicescript/settings; host tests: a map). */
export interface SettingsAccess {
    /** A JSON-encoded string setting (as `.env` files store them); "" if missing, unreadable or not a string. */
    readText(key: string): Promise<string>
    /** Raw bytes of a setting; null when missing or empty; throws when the read times out. */
    readBytes(key: string): Promise<Buffer>
    writeBytes(key: string, value: Buffer): Promise<void>
    /** `count` slots of `size` bytes, one setting per slot, key = prefix + slot number. */
    pageStore(prefix: string, count: number, size: number): FlashPageStore
}

/** What the firmware layer needs from the device besides the pump hardware: time, settings
 *  flash, HMAC-SHA256 and the device identifier. Built by the entries (src/hal/device.ts on the
 *  device), so src/firmware imports no @devicescript module and runs under Node. */
export interface DeviceServices {
    clock: Clock
    settings: SettingsAccess
    /** HMAC-SHA256 over byte arrays, for the remote interface core. */
    remoteHmac: HmacSha256
    /** HMAC-SHA256 over Buffers, for the drug library's MAC. */
    hmacSha256(key: Buffer, data: Buffer): Buffer
    /** `n` cryptographically strong random bytes (remote re-synchronisation nonces). */
    randomBytes(n: number): number[]
    /** The hardware's own identifier (used when no PUMP_ID is provisioned). */
    deviceId(): string
}

/** The front panel's screen: 8 lines of 21 characters; inverted for a high-priority alarm
 *  (src/hal/panelDisplay.ts: the board's OLED, or a console/screen-service display). */
export interface PanelDisplay {
    show(lines: string[], inverted: boolean): Promise<void>
}

/** The front panel's keys ("start", "stop", "up", "down", "ack"): each press and release. */
export interface PanelKeySource {
    onKey(handler: (key: string, down: boolean) => void): void
}
