// Timer-based control loop: every tick it reads the clock once, reads the sensors, runs the core
// tick (src/core/tick.ts: safety check, plan, back-off, annunciation) and hands the result to the
// drive, buzzer and LEDs. All dosing and safety decisions live in src/core.

import { Clock } from "../core/clock"
import { EventLog } from "../core/eventLog"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../core/pump"
import { applySelfTest, evaluateSelfTest } from "../core/safety/selfTest"
import { NOMINAL_PRESSURE_CAL, SafetyMonitor } from "../core/safety/monitor"
import { SensorSnapshot } from "../core/sensors"
import { runControlTick } from "../core/tick"
import { formatThousandths } from "../core/units"
import { PumpHardware } from "../hal/types"

export function createPump(log: EventLog): PumpController {
    return new PumpController(REFERENCE_PUMP_CONFIG, log)
}

/** An exception as "Name: message" (string concatenation of an Error prints its internals). */
export function errorText(e: any): string {
    return e instanceof Error ? e.name + ": " + e.message : "" + e
}

/** Motor enable state the loop last sent to the drive. */
export interface DriveState {
    motorOn: boolean
}

/** Safety monitor plus what the loop last sent to the buzzer and alarm LED. */
export interface SafetyState {
    monitor: SafetyMonitor
    lastToneHz: number
    lastLed: boolean
}

export function createSafetyState(monitor: SafetyMonitor): SafetyState {
    return { monitor: monitor, lastToneHz: 0, lastLed: false }
}

/** One control tick: the device I/O around the core tick (src/core/tick.ts), which decides the
 *  steps, motor state and annunciation. A drive error raises DRIVE_FAULT at once: the pump
 *  stops and the record says why. */
export async function controlTick(hw: PumpHardware, pump: PumpController, drive: DriveState, nowMs: number, safety: SafetyState) {
    const ind = hw.indicators
    const stepper = hw.stepper
    try {
        // A failed sensor read is passed on as null (the safety check makes it a SENSOR_FAULT).
        let snap: SensorSnapshot = null
        try {
            snap = await hw.sensors.read()
        } catch (e) {}
        const t = runControlTick(nowMs, snap, safety.monitor, pump)
        if (t.motorOn !== drive.motorOn) {
            drive.motorOn = t.motorOn
            await stepper.enable(drive.motorOn)
            await ind.setRunLed(drive.motorOn)
        }
        // At most one of the two is non-zero (invariant of runControlTick).
        if (t.forwardSteps > 0) await stepper.queue(t.forwardSteps, true, CONTROL_PERIOD_MS)
        if (t.reverseSteps > 0) await stepper.queue(t.reverseSteps, false, CONTROL_PERIOD_MS)
        // Buzzer and LED from this tick's annunciation: one beep per pattern pulse (rising edge).
        const a = t.annunciation
        if (a.toneHz > 0 && safety.lastToneHz === 0) await ind.beep(a.toneHz, a.pulseMs)
        safety.lastToneHz = a.toneHz
        const led = a.redLed || a.yellowLed
        if (led !== safety.lastLed) {
            safety.lastLed = led
            await ind.setAlarmLed(led)
        }
    } catch (e) {
        pump.raiseAlarm(nowMs, "DRIVE_FAULT", "step engine error: " + errorText(e))
        try {
            await stepper.enable(false)
            drive.motorOn = false
        } catch (e2) {
            // The engine is unreachable; its own watchdog stops pulsing when commands stop.
        }
    }
}

/** Period of the TICK line on the serial log. */
export const TICK_STATS_PERIOD_MS = 60000

/** Control-tick timing on the running device, printed once a minute as
 *  "TICK n=<ticks> busyMs=<sum> maxMs=<longest> gapMaxMs=<longest start-to-start> skipped=<n>":
 *  busyMs / n is the mean tick cost (ms clock, so the mean is exact over many ticks).
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class TickStats {
    // Zeroed by takeLine (from the constructor too): no initialisers (each costs image bytes).
    n: number
    busyMs: number
    maxMs: number
    gapMaxMs: number
    skipped: number
    /** Undefined until the first tick, which reads as not >= 0: no gap yet. */
    private lastStartMs: number

    constructor() {
        this.takeLine()
    }

    add(startMs: number, tookMs: number) {
        this.n++
        this.busyMs += tookMs
        if (tookMs > this.maxMs) this.maxMs = tookMs
        const gapMs = startMs - this.lastStartMs
        if (this.lastStartMs >= 0 && gapMs > this.gapMaxMs) this.gapMaxMs = gapMs
        this.lastStartMs = startMs
    }

    /** The TICK line of the period so far; the counts then start again from zero. */
    takeLine(): string {
        const line = "TICK n=" + this.n + " busyMs=" + this.busyMs + " maxMs=" + this.maxMs + " gapMaxMs=" + this.gapMaxMs + " skipped=" + this.skipped + " periodMs=" + CONTROL_PERIOD_MS
        this.n = 0
        this.busyMs = 0
        this.maxMs = 0
        this.gapMaxMs = 0
        this.skipped = 0
        return line
    }
}

/** Starts the control tick, a once-a-second status print and a once-a-minute TICK line. */
export function startControlLoop(hw: PumpHardware, pump: PumpController, log: EventLog, safety: SafetyState, clock: Clock) {
    const drive: DriveState = { motorOn: false }
    let busy = false
    const stats = new TickStats()
    clock.every(CONTROL_PERIOD_MS, async () => {
        // A tick still running when the next is due is skipped; the planner sees the late tick.
        if (busy) {
            stats.skipped++
            return
        }
        busy = true
        const t0 = clock.nowMs()
        await controlTick(hw, pump, drive, t0, safety)
        stats.add(t0, clock.nowMs() - t0)
        busy = false
    })
    // The chip's real tick cost, replacing bench:device's estimate at first flash (docs/architecture.md).
    clock.every(TICK_STATS_PERIOD_MS, () => {
        console.log(stats.takeLine())
    })
    clock.every(1000, async () => {
        // Per-field readers, not status(): its object needs a 292-byte heap block every second
        // (REQ-HEAP-002).
        const p = pump.program
        const code = pump.alarmCodeNow()
        console.log(
            "state=" + pump.state() +
            " rate=" + formatThousandths(pump.currentRateUlPerH) + "mL/h" +
            " infused=" + formatThousandths(pump.infusedUlNow()) + "mL" +
            " vtbi=" + formatThousandths(p ? p.vtbiUl : 0) + "mL" +
            (code.length > 0 ? " alarm=" + code : "") +
            " fired=" + (await hw.stepper.firedCount())
        )
    })
}

/** Power-on self-test: sounds the buzzer and lights the alarm LED while reading their driver
 *  current (where the board can), takes a sensor snapshot and checks the settings record.
 *  A failure puts the pump Out of Service with the reasons kept. Returns true on pass. */
export async function powerOnSelfTest(hw: PumpHardware, pump: PumpController, log: EventLog, settingsText: string, settingsCrc: number, clock: Clock): Promise<boolean> {
    let buzzerOn = NaN
    let buzzerOff = NaN
    let ledOn = NaN
    let ledOff = NaN
    let snap: SensorSnapshot = null
    const fb = hw.feedback
    const ind = hw.indicators
    try {
        if (fb) buzzerOff = await fb.buzzerCurrentMa()
        await ind.beep(960, 200)
        if (fb) buzzerOn = await fb.buzzerCurrentMa()
        await ind.setAlarmLed(true)
        if (fb) ledOn = await fb.alarmLedCurrentMa()
        await ind.setAlarmLed(false)
        if (fb) ledOff = await fb.alarmLedCurrentMa()
        snap = await hw.sensors.read()
    } catch (e) {
        log.record(clock.nowMs(), "SELFTEST_ERROR", "" + e)
    }
    const r = evaluateSelfTest(
        { buzzerOnMa: buzzerOn, buzzerOffMa: buzzerOff, ledOnMa: ledOn, ledOffMa: ledOff, snapshot: snap, settingsText: settingsText, settingsCrc: settingsCrc },
        NOMINAL_PRESSURE_CAL
    )
    return applySelfTest(clock.nowMs(), r, pump, log)
}
