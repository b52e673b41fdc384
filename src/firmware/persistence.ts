// Device glue for the persistent event log, power-loss snapshot, maintenance counters and the
// replay counters of the remote interface. All logic is in src/core/log and src/core/persist;
// this file loads the settings-backed stores, mirrors the EventLog and flushes in the
// background (every 100 ms, in its own timer, never inside the 20 ms control tick).

import { EventLog, LogEvent } from "../core/eventLog"
import { DurableCell } from "../core/log/durableCell"
import { PersistentLog, RecoveryReport } from "../core/log/persistentLog"
import { MaintenanceCounters } from "../core/persist/maintenance"
import { DEFAULT_SAVE_INTERVAL_MS, PowerSafety } from "../core/persist/powerSafety"
import { PumpController } from "../core/pump"
import { isDelivering } from "../core/pumpStates"
import { DeviceServices, FlashPageStore } from "../hal/types"

import { CELL_SLOT_BYTES, CELL_SLOTS, LOG_SLOT_BYTES, LOG_SLOTS, PROGRESS_SLOT_BYTES } from "../core/persist/settingsLayout"
/** Records waiting for the background writer; beyond this they are counted, not queued. */
export const LOG_QUEUE_MAX = 64
/** A continuing write fault is logged (with its count) and re-annunciated at most this often. */
export const WRITE_FAULT_REPEAT_MS = 10000

export interface Persistence {
    plog: PersistentLog
    cellStore: FlashPageStore
    maintenance: MaintenanceCounters
    rctrCell: DurableCell
    restoreResult: string
}

/** Loads stores, recovers the log, restores the pump and starts the background saver. An
 *  existing `log.onRecord` hook (the console mirror) keeps running after the persistent one. */
export async function startPersistence(pump: PumpController, log: EventLog, pumpId: string, dev: DeviceServices): Promise<Persistence> {
    const clock = dev.clock
    const now = clock.nowMs()
    const logStore = dev.settings.pageStore("pl", LOG_SLOTS, LOG_SLOT_BYTES)
    await clock.sleep(0)
    const cellStore = dev.settings.pageStore("pc", CELL_SLOTS, CELL_SLOT_BYTES)
    const progStore = dev.settings.pageStore("pp", 2, PROGRESS_SLOT_BYTES)
    const unreadable = (await logStore.load()) + (await cellStore.load()) + (await progStore.load())
    // Flushed in this order; the write-fault record names their last failures in it.
    const stores = [cellStore, progStore, logStore]
    const plog = new PersistentLog(logStore)
    // The VM panics (InfiniteLoop) after ~10k loop iterations without a yield: scan in steps.
    // 1 ms, not 0: a zero sleep resumes in the same VM turn, so a full ring's scan was one stall
    // of ~30 M WASM instructions (0.5 s at the RP2040 estimate) with no packet or timer between.
    let rec: RecoveryReport = null
    for (let s = 0; s < LOG_SLOTS; s++) {
        rec = plog.scanSlot(s)
        if (s % 4 === 3) await clock.sleep(1)
    }
    const maintenance = new MaintenanceCounters(new DurableCell(cellStore, 2, "maint"))
    maintenance.boot(now)
    plog.append(now, "BOOT", "boot=" + maintenance.boots + " id=" + pumpId + " recovered=" + rec.records + " holes=" + rec.holes + " invalid=" + rec.invalidSlots)
    if (unreadable > 0) plog.append(now, "STORE_READ_FAIL", unreadable + " settings slot(s) unreadable at boot; treated as empty")
    if (maintenance.unreadable) plog.append(now, "MAINT_RESET", "stored counters unreadable; restarted at zero")
    if (maintenance.stale) plog.append(now, "MAINT_STALE", "only one counter slot readable; counters may lag by one save (<= 15 min)")

    // Records are queued here and written by the background timer, so the 20 ms control tick
    // never pays for encoding and CRC (about 2 M WASM instructions per record, tools/benchLogCost.ts).
    const queue: LogEvent[] = []
    let overflow = 0
    const previous = log.onRecord
    log.onRecord = (e: LogEvent) => {
        if (previous) previous(e)
        if (queue.length < LOG_QUEUE_MAX) queue.push(e)
        else overflow++
        maintenance.observe(e.kind, e.detail)
    }
    const safety = new PowerSafety(new DurableCell(cellStore, 0, "snap"), DEFAULT_SAVE_INTERVAL_MS, log, new DurableCell(progStore, 0, "p"))
    // 1 ms yields (a zero sleep stays in the VM turn): cell reads, restore and saves are
    // separate turns, not one ~22 M-instruction stall (0.4 s at the RP2040 estimate).
    await clock.sleep(1)
    const restoreResult = safety.boot(now, pump)
    await clock.sleep(1)
    let seenFailures = 0
    let faultAtMs = -WRITE_FAULT_REPEAT_MS
    let last = clock.nowMs()
    let busy = false
    // The background writer: the snapshot and counters when due, the queued records, then every
    // store. Run once now (the boot's records), then every 100 ms.
    const writer = async () => {
        if (busy) return
        busy = true
        const t0 = clock.nowMs()
        safety.poll(t0, pump)
        maintenance.poll(t0, isDelivering(pump.state()) ? t0 - last : 0)
        last = t0
        while (queue.length > 0) {
            const e = queue.shift()
            plog.append(e.timeMs, e.kind, e.detail)
            // One record is ~2 M WASM instructions (most of it the CRC); yield after each so a burst (a power-loss
            // restore logs several at once) cannot reach the VM's InfiniteLoop budget. 1 ms, not
            // 0: a zero sleep resumes within the same VM turn, so a burst of records was one
            // stall of the runtime (no packet, no timer in between): 0.9 s at the RP2040 estimate.
            await clock.sleep(1)
        }
        if (overflow > 0) {
            plog.append(clock.nowMs(), "LOG_OVERFLOW", overflow + " records not persisted (queue full)")
            overflow = 0
        }
        let failures = 0
        for (let i = 0; i < 3; i++) {
            const st = stores[i]
            await st.flush()
            failures += st.failures
        }
        busy = false
        const t = clock.nowMs()
        if (failures === seenFailures || t - faultAtMs < WRITE_FAULT_REPEAT_MS) return
        let lastFailures = ""
        for (let i = 0; i < 3; i++) lastFailures += " " + stores[i].lastFailure
        // REQ-PERS-010: the pump can no longer keep its power-loss record (REQ-PWR-001/002), its
        // replay counters or its log, so delivery stops behind a high-priority alarm while the
        // volume in RAM is still right: after a power cut it would come back Idle or with an old
        // volume, and a clinician could repeat a dose.
        log.record(t, "SETTINGS_WRITE_FAILED", failures - seenFailures + " write(s) failed, last:" + lastFailures)
        const s = pump.state()
        if (s !== "Alarm" && s !== "OutOfService") pump.raiseAlarm(t, "PUMP_ALARM", "settings flash write failed")
        seenFailures = failures
        faultAtMs = t
    }
    await writer()
    clock.every(100, writer)
    return { plog, cellStore, maintenance, rctrCell: new DurableCell(cellStore, 4, "rctr"), restoreResult }
}
