// Power-loss safety: saves the pump snapshot at safe points and restores it at power-up.
// Saved at once on any change of state, program, alarm or out-of-service tag, and at most every
// `stepSaveIntervalMs` while steps advance. So after a power cut the saved volume lags the true
// one by at most rate x (interval + write latency) (REQ-PWR-002); that bound is counted as given
// on restore, so the remaining VTBI errs short, never long (REQ-PWR-006). The pump never resumes
// by itself, the clinician sees POWER_RESTORED and decides. While only steps advance, a small
// progress cell ("<snapshot version>,<steps>,<bolus steps>", 64 B in fstor instead of the
// snapshot's 216 B) is written instead of the whole snapshot: flash wear (REQ-BUD-005).

import { DurableCell } from "../log/durableCell"
import { EventSink } from "../eventLog"
import { bolusRateUlPerH, InfusionProgram, maxRateForSyringeUlPerH } from "../program"
import { findSyringe, REFERENCE_MECHANICS } from "../syringe"
import { PumpController, PumpSnapshot } from "../pump"
import { PumpState } from "../pumpStates"
import { decodeSnapshot, encodeSnapshot, uintOf } from "./snapshot"

/** 30 s: the shortest interval that gives the RP2040 settings flash >= 10 years at 24/7
 *  (settingsBudget.ts periodicWear; REQ-BUD-005). The unsaved bound is rate x (30 s + 1 s), counted
 *  as given on restore (REQ-PWR-006). */
export const DEFAULT_SAVE_INTERVAL_MS = 30000

/** 1 s: a save is captured at a 100 ms poll and reaches flash after the log drain and the write,
 *  which can include fstor's erase of an 8 KB half (W25Q16JV sector erase tSE max 400 ms x 2), so
 *  the last save that survives a cut can be that much older than the interval (REQ-PWR-006). */
export const SAVE_LATENCY_MARGIN_MS = 1000

/** Volume that can run between the last surviving save and a cut in a delivering state:
 *  rate x (interval + SAVE_LATENCY_MARGIN_MS), rounded up to whole µL. */
export function unsavedBoundUl(state: PumpState, p: InfusionProgram, intervalMs: number): number {
    if (!p) return 0
    let rateUlPerH = 0
    if (state === "Running") rateUlPerH = p.rateUlPerH
    else if (state === "Bolus") rateUlPerH = bolusRateUlPerH(p)
    else if (state === "KVO") rateUlPerH = p.kvoRateUlPerH
    else if (state === "Loading") {
        // The loading rate is not in the snapshot: bound it by the fastest the syringe can go.
        const syringe = findSyringe(p.syringeId)
        rateUlPerH = syringe ? maxRateForSyringeUlPerH(syringe, REFERENCE_MECHANICS) : 0
    }
    return Math.ceil((rateUlPerH * (intervalMs + SAVE_LATENCY_MARGIN_MS)) / 3600000)
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class PowerSafety {
    private readonly cell: DurableCell
    private readonly intervalMs: number
    /** The snapshot last saved (undefined: none yet). */
    private last: PumpSnapshot
    private lastSaveMs = 0

    private readonly log: EventSink
    /** null: every save writes the whole snapshot. */
    private readonly progress: DurableCell

    constructor(cell: DurableCell, stepSaveIntervalMs: number, log: EventSink, progress: DurableCell) {
        this.cell = cell
        this.intervalMs = stepSaveIntervalMs
        this.log = log
        this.progress = progress
    }

    /** Power-up: restore what was saved (if anything). Returns what happened, for the console. */
    boot(nowMs: number, pump: PumpController): string {
        const text = this.cell.value
        let result = "no snapshot"
        if (text) {
            const snap = decodeSnapshot(text)
            if (!snap) result = "snapshot unreadable: ignored"
            else {
                // Progress saved after this snapshot (same version) carries the newer step counts;
                // a progress record of an older snapshot, or a torn one, is ignored.
                const p = this.progress ? (this.progress.value || "").split(",") : []
                if (p.length === 3) {
                    const steps = uintOf(p[1])
                    const bolusSteps = uintOf(p[2])
                    if (uintOf(p[0]) === this.cell.version && steps >= snap.steps && bolusSteps >= snap.bolusSteps) {
                        snap.steps = steps
                        snap.bolusSteps = bolusSteps
                    }
                }
                // REQ-PWR-006: what may have run since the last save is counted as given.
                const r = pump.restoreSnapshot(nowMs, snap, unsavedBoundUl(snap.state, snap.program, this.intervalMs))
                result = r.ok ? "restored " + snap.state + " -> " + pump.state() : "snapshot refused: " + r.reason
            }
        }
        this.poll(nowMs, pump)
        return result
    }

    /** Saves if something that matters changed. Call often (not from the control tick itself). */
    poll(nowMs: number, pump: PumpController): boolean {
        const s = pump.snapshot()
        const l = this.last
        const changed = !l || s.state !== l.state || s.program !== l.program || s.alarmCode !== l.alarmCode || s.outOfServiceReason !== l.outOfServiceReason
        if (!changed && !(s.steps !== l.steps && nowMs - this.lastSaveMs >= this.intervalMs)) return false
        if (changed || !this.progress) this.cell.set(encodeSnapshot(s))
        else this.progress.set(this.cell.version + "," + s.steps + "," + s.bolusSteps)
        this.last = s
        this.lastSaveMs = nowMs
        return true
    }
}
