// Power-on self-test: judges what the hardware reported (buzzer and LED driver current, a first
// sensor snapshot, the settings record's checksum). Any failure puts the pump Out of Service
// with the reasons kept in the record until a technician returns it to service.

import { EventSink } from "../eventLog"
import { PumpController } from "../pump"
import { SensorSnapshot } from "../sensors"
import { countsToMmHg, PressureCalibration } from "./detectors/pressureSensor"
import { NOMINAL_PRESSURE_CAL } from "./monitor"

export interface SelfTestInputs {
    /** Driver current (mA) with the buzzer on / off; NaN when the board has no feedback. */
    buzzerOnMa: number
    buzzerOffMa: number
    /** Alarm LED driver current (mA) on / off; NaN when the board has no feedback. */
    ledOnMa: number
    ledOffMa: number
    snapshot: SensorSnapshot
    /** Settings record as stored, and the CRC stored with it. */
    settingsText: string
    settingsCrc: number
}

export interface SelfTestResult {
    ok: boolean
    /** Failures (each one is a reason for Out of Service). */
    failures: string[]
    /** Checks that could not be made (e.g. no driver feedback): logged, not failures. */
    notes: string[]
}

export const SELFTEST_LIMITS = {
    /** A driven piezo buzzer / LED draws well above this; an open circuit draws ~0. */
    minOnMa: 3,
    maxOffMa: 1,
    /** At rest (no flow) the line pressure must read near zero gauge: -30..+100 mmHg. */
    restMinMmHg: -30,
    restMaxMmHg: 100,
    adcMin: 100,
    adcMax: 4000,
    batteryMinMv: 3000,
    batteryMaxMv: 4500,
    positionMinUm: -1000,
    positionMaxUm: 100000,
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over the string's UTF-16 code units (ASCII
 *  settings text): catches every single-bit and burst error up to 16 bits in the record. */
export function crc16(text: string): number {
    let crc = 0xffff
    for (let i = 0; i < text.length; i++) {
        crc = crc ^ ((text.charCodeAt(i) & 0xff) << 8)
        for (let b = 0; b < 8; b++) {
            if ((crc & 0x8000) !== 0) crc = ((crc << 1) ^ 0x1021) & 0xffff
            else crc = (crc << 1) & 0xffff
        }
    }
    return crc
}

function driverCheck(name: string, onMa: number, offMa: number, r: SelfTestResult) {
    if (isNaN(onMa) || isNaN(offMa)) {
        r.notes.push(name + ": no driver feedback on this board; operator must confirm at power-on")
        return
    }
    if (onMa < SELFTEST_LIMITS.minOnMa) r.failures.push(name + " open circuit (" + onMa + "mA when on)")
    if (offMa > SELFTEST_LIMITS.maxOffMa) r.failures.push(name + " driver stuck on (" + offMa + "mA when off)")
}

export function evaluateSelfTest(inp: SelfTestInputs, cal: PressureCalibration): SelfTestResult {
    const L = SELFTEST_LIMITS
    const r: SelfTestResult = { ok: true, failures: [], notes: [] }
    driverCheck("buzzer", inp.buzzerOnMa, inp.buzzerOffMa, r)
    driverCheck("alarm LED", inp.ledOnMa, inp.ledOffMa, r)
    const s = inp.snapshot
    // +x !== x: not a number, or NaN (as in SafetyMonitor.check).
    if (!s || +s.pressureAdc !== s.pressureAdc) {
        r.failures.push("sensors: no snapshot")
    } else {
        if (s.pressureAdc < L.adcMin || s.pressureAdc > L.adcMax) r.failures.push("pressure sensor out of range (" + s.pressureAdc + " counts)")
        else {
            const p = countsToMmHg(cal, s.pressureAdc)
            if (p < L.restMinMmHg || p > L.restMaxMmHg) r.failures.push("pressure at rest implausible (" + Math.round(p) + " mmHg)")
        }
        if (!(s.batteryMv >= L.batteryMinMv && s.batteryMv <= L.batteryMaxMv)) r.failures.push("battery reading implausible (" + s.batteryMv + " mV)")
        if (!(s.plungerPositionUm >= L.positionMinUm && s.plungerPositionUm <= L.positionMaxUm))
            r.failures.push("position sensor implausible (" + s.plungerPositionUm + " um)")
        if (s.airInLine) r.notes.push("air detector sees air at power-on (no line loaded?)")
    }
    if (typeof inp.settingsText !== "string" || crc16(inp.settingsText) !== inp.settingsCrc) r.failures.push("settings checksum mismatch")
    r.ok = r.failures.length === 0
    return r
}

/** Applies a self-test result to the pump: logs every note and failure; a failure puts the pump
 *  Out of Service with the reasons as its kept text. */
export function applySelfTest(nowMs: number, r: SelfTestResult, pump: PumpController, log: EventSink): boolean {
    for (let i = 0; i < r.notes.length; i++) log.record(nowMs, "SELFTEST_NOTE", r.notes[i])
    if (r.ok) {
        log.record(nowMs, "SELFTEST_PASS", "")
        return true
    }
    const reason = "self-test: " + r.failures.join("; ")
    log.record(nowMs, "SELFTEST_FAIL", reason)
    pump.setOutOfService(nowMs, reason)
    return false
}

export { NOMINAL_PRESSURE_CAL }
