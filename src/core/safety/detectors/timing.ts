// Control-loop timing, from the tick times the monitor is given (time spent paused is the monitor's
// once-a-second pass: SafetyMonitor.pausedSinceMs).

import { EventSink } from "../../eventLog"

/** A late tick keeps LOOP_OVERRUN's cause for this long, so one late tick is annunciated. */
const OVERRUN_HOLD_MS = 10000

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class LoopTiming {
    /** Time of the last tick (-1 before the first); the monitor moves it itself on a tick on time. */
    lastCheckMs = -1
    /** Overrun reported until this time (the monitor reads it directly). */
    overrunUntilMs = -1
    /** A gap reached the watchdog limit (the monitor takes it: reads and resets). */
    watchdogSeen = false

    /** One tick: a gap >= watchdogMs is a watchdog event, a gap > overrunMs an overrun. */
    update(nowMs: number, watchdogMs: number, overrunMs: number, log: EventSink) {
        if (this.lastCheckMs >= 0) {
            const gapMs = nowMs - this.lastCheckMs
            if (gapMs >= watchdogMs) {
                this.watchdogSeen = true
                log.record(nowMs, "WATCHDOG", "no control tick for " + gapMs + "ms")
            } else if (gapMs > overrunMs) {
                this.overrunUntilMs = nowMs + OVERRUN_HOLD_MS
                log.record(nowMs, "LOOP_LATE", "tick gap " + gapMs + "ms")
            }
        }
        this.lastCheckMs = nowMs
    }

    /** A tick gap reached the watchdog limit since the last call (a gap seen in a tick with a
     *  garbled snapshot is reported at the next valid one). */
    takeWatchdog(): boolean {
        const seen = this.watchdogSeen
        this.watchdogSeen = false
        return seen
    }

    /** A late tick within the last OVERRUN_HOLD_MS. */
    overrun(nowMs: number): boolean {
        return this.overrunUntilMs >= nowMs
    }
}
