// Maintenance counters for clinical engineering: motor run time, occlusion alarms, door
// cycles and power-ups, persisted in a DurableCell ("v1|runMs|occlusions|doorCycles|boots").
// Occlusions and door cycles are counted from the event log, so any module that logs
// ALARM "OCCLUSION..." or DOOR "open..." is counted without a direct dependency on it.

import { DurableCell } from "../log/durableCell"
import { uintOf } from "./snapshot"

/** 15 min: a 216-byte save a minute alone would use more than the RP2040's whole 10-year wear
 *  budget (about 2.5 B/s, settingsBudget.ts). */
export const MAINT_SAVE_INTERVAL_MS = 900000

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class MaintenanceCounters {
    private readonly cell: DurableCell
    motorRunMs = 0
    occlusions = 0
    doorCycles = 0
    boots = 0
    /** Changed since the last save (undefined, which reads as false, until the first change). */
    private dirty: boolean
    private lastSaveMs = 0
    /** True if the stored counters could not be read (they restart at zero; logged by the caller). */
    readonly unreadable: boolean = false
    /** True if the stored counters were read but cannot be proven to be the newest save (only one
     *  slot survived): they may lag by up to one save interval (logged by the caller). */
    readonly stale: boolean = false

    constructor(cell: DurableCell) {
        this.cell = cell
        const text = cell.value
        if (text !== null) {
            const f = text.split("|")
            let ok = f.length === 5 && f[0] === "v1"
            const v: number[] = []
            for (let i = 1; ok && i < 5; i++) {
                const n = uintOf(f[i])
                if (n < 0) ok = false
                v.push(n)
            }
            if (ok) {
                this.motorRunMs = v[0]
                this.occlusions = v[1]
                this.doorCycles = v[2]
                this.boots = v[3]
                this.stale = !cell.intact()
            } else this.unreadable = true
        }
    }

    /** Counts one power-up and saves at once. */
    boot(nowMs: number) {
        this.boots++
        this.save(nowMs)
    }

    /** Log mirror hook. */
    observe(kind: string, detail: string) {
        if (kind === "ALARM" && detail.indexOf("OCCLUSION") === 0) this.occlusions++
        else if (kind === "DOOR" && detail.indexOf("open") === 0) this.doorCycles++
        else return
        this.dirty = true
    }

    /** Adds `runMs` of motor run time (the writer's 100 ms poll passes the time delivering since
     *  the last one), then saves if changed and the interval has passed (flash wear). */
    poll(nowMs: number, runMs: number): boolean {
        if (runMs > 0) {
            this.motorRunMs += runMs
            this.dirty = true
        }
        if (!this.dirty || nowMs - this.lastSaveMs < MAINT_SAVE_INTERVAL_MS) return false
        this.save(nowMs)
        return true
    }

    save(nowMs: number) {
        const t = "v1|" + this.motorRunMs + "|" + this.occlusions + "|" + this.doorCycles + "|" + this.boots
        this.cell.set(t)
        // Keep the pair intact (a first save leaves one slot), so a lost newer slot is detectable.
        if (!this.cell.intact()) this.cell.set(t)
        this.dirty = false
        this.lastSaveMs = nowMs
    }

    text(): string {
        return "runH=" + Math.floor(this.motorRunMs / 3600000) + " runMs=" + this.motorRunMs + " occlusions=" + this.occlusions + " doorCycles=" + this.doorCycles + " boots=" + this.boots
    }
}
