// Firmware start-up shared by every entry point (simulator, boards, HIL rig): the same event
// log, persistence and power-loss restore, remote interface, power-on self-test and safety
// monitor everywhere, so no entry can ship without one of them. Entries differ only in the
// hardware adapter and in whether a default program is loaded. Time, timers, settings flash, HMAC and
// the device identifier come in as DeviceServices, so this layer also runs in vitest on a fake clock.

import { Clock } from "../core/clock"
import { EventLog } from "../core/eventLog"
import { formatLogLine, isValidPumpId } from "../core/log/exportLine"
import { LOG_SLOTS } from "../core/persist/settingsLayout"
import { InfusionProgram } from "../core/program"
import { CommandResult, PumpController, REFERENCE_PUMP_CONFIG } from "../core/pump"
import { SAFETY_DEFAULTS, SafetyMonitor } from "../core/safety/monitor"
import { crc16 } from "../core/safety/selfTest"
import { powerOnSelfTest, SafetyState, startControlLoop } from "./control"
import { DeviceServices, PumpHardware } from "../hal/types"
import { LibraryStore } from "../core/druglib/store"
import { cryptoVerifier, loadDeviceKey } from "./libraryDevice"
import { LibrarySource } from "./librarySource"
import { LibraryInstaller } from "../core/remote/endpoint"
import { Persistence, startPersistence } from "./persistence"
import { startRemote } from "./remote"

export interface PumpFirmware {
    pump: PumpController
    log: EventLog
    hw: PumpHardware
    persistence: Persistence
    dev: DeviceServices
    safety: SafetyState
    selfTestOk: boolean
    /** The drug library in force (none until a signed one is installed). */
    library: LibraryStore
    /** Remote library updates (null: refused; the library is in the image, librarySource.ts). */
    libraryInstaller: LibraryInstaller
    pumpId: string
}

/** The safety settings are the built-in defaults; the self-test checks them as a record. */
const SAFETY_SETTINGS_TEXT = "occl=medium air=100uL"

/** Analog servers report their first reading shortly after start; the self-test must not judge
 *  a sensor before it has reported (it would wrongly take the pump out of service). */
export const SENSOR_SETTLE_MS = 3000

/** Brings the pump up to the point where it can take a program: restored, self-tested, with the
 *  safety monitor created. The control loop is not started yet (`runFirmware` does that). */
export async function bootFirmware(hw: PumpHardware, dev: DeviceServices, idPrefix: string, librarySource: LibrarySource): Promise<PumpFirmware> {
    const clock = dev.clock
    // The RAM log is a window on the flash log (persistence.ts), read only by the panel's history
    // (its last 12 lines): 16 records. Each record is an object plus its text, ~130 B of VM heap,
    // so 64 of them could take 8 KB of the 64 KB heap once alarms had filled it (TODO-HEAP-1).
    const log = new EventLog(16)
    log.onRecord = e => console.log("EVENT #" + e.seq + " t=" + e.timeMs + " " + e.kind + " " + e.detail)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    const configuredId = await dev.settings.readText("PUMP_ID")
    const pumpId = isValidPumpId(configuredId) ? configuredId : idPrefix + dev.deviceId()
    const persistence = await startPersistence(pump, log, pumpId, dev)
    console.log("PERSIST " + persistence.restoreResult + "; " + persistence.maintenance.text())
    // The persistent log as LOG lines (captured by `npm run log -- export`), one record at a
    // time with a yield after each: decoding and CRC of a full ring in one go exceeds the VM's
    // InfiniteLoop budget (found by the HIL power-restart scenario). 1 ms, not 0: a zero sleep
    // resumes in the same VM turn (a full ring was one ~40 M-instruction stall, 0.7 s at the RP2040
    // estimate).
    let next = 1
    for (let i = 0; i < LOG_SLOTS; i++) {
        const recs = persistence.plog.read(next, 1)
        if (recs.length === 0) break
        console.log(formatLogLine(pumpId, recs[0]))
        next = recs[0].seq + 1
        await clock.sleep(1)
    }
    // Drug library: from the image or settings (librarySource.ts), verified again with the device
    // key at every boot. No key provisioned means every library is refused (and logged).
    const library = new LibraryStore(cryptoVerifier(await loadDeviceKey(dev.settings, log, clock.nowMs()), dev.hmacSha256), log)
    const libraryInstaller = await librarySource(library, pump, dev)
    // Wait (up to SENSOR_SETTLE_MS) until every analog sensor has reported a number.
    const t0 = clock.nowMs()
    while (hw.sensors && clock.nowMs() - t0 < SENSOR_SETTLE_MS) {
        try {
            const s = await hw.sensors.read()
            // A missing (undefined) or NaN reading makes the sum NaN.
            if (s && !isNaN(s.pressureAdc + s.batteryMv + s.plungerPositionUm)) break
        } catch (e) {
            // not ready yet; the self-test reports it if it never becomes ready
        }
        await clock.sleep(50)
    }
    const selfTestOk = await powerOnSelfTest(hw, pump, log, SAFETY_SETTINGS_TEXT, crc16(SAFETY_SETTINGS_TEXT), clock)
    // 1 ms, not 0: a zero sleep resumes in the same VM turn, and boot's stretches back to back
    // kept the runtime from taking the sensors' reports for 0.5 s at the RP2040 estimate, so the
    // first control tick found every reading stale (chip-speed HIL, docs/hil-rig.md).
    await clock.sleep(1)
    const safety: SafetyState = { monitor: new SafetyMonitor(pump, log, SAFETY_DEFAULTS), lastToneHz: 0, lastLed: false }
    await clock.sleep(1)
    return { pump: pump, log: log, hw: hw, persistence: persistence, dev: dev, safety: safety, selfTestOk: selfTestOk, library: library, libraryInstaller: libraryInstaller, pumpId: pumpId }
}

/** Starts the remote link (gateway and engineering; drug-library updates arrive over it unless the
 *  image carries its library) on a
 *  booted pump. Board and simulator images call it; the HIL image does not: no scenario uses
 *  the link, and the VM's 64 KB code limit leaves no room for it there (docs/requirements.md
 *  TODO-CODE-1). Started after the self-test, so no remote command reaches a pump without its
 *  safety monitor. */
export async function startRemoteLink(fw: PumpFirmware): Promise<void> {
    // An entry that starts the link must build its services with the link's crypto.
    if (!fw.dev.remoteHmac) throw new Error("remote link without its crypto (createRemoteDeviceServices)")
    await startRemote(fw.pump, fw.log, fw.persistence, fw.pumpId, fw.libraryInstaller, fw.dev)
}

/** Returns the load result, or null when no program was loaded. Loads `program` (if any) unless the pump came back from a power loss, starts it only if the
 *  self-test passed, and starts the control loop. A restored pump stays Paused behind its alarm. */
export function runFirmware(fw: PumpFirmware, program: InfusionProgram, autoStart: boolean): CommandResult {
    const pump = fw.pump
    const clock = fw.dev.clock
    let loaded: CommandResult = null
    if (program && pump.state() === "Idle") {
        const now = clock.nowMs()
        loaded = pump.loadProgram(now, program)
        if (!loaded.ok) console.log("program refused: " + loaded.reason)
        else if (autoStart && fw.selfTestOk) pump.start(now)
    }
    startControlLoop(fw.hw, pump, fw.log, fw.safety, clock)
    return loaded
}
