// Alarm manager after IEC 60601-1-8: every alarm latches until it is acknowledged AND its cause
// is gone (both, in either order); the highest priority (then the oldest) alarm is annunciated;
// audio can be paused for 2 min, and the pause ends early when any new alarm is raised.
// Acknowledging never silences an alarm whose cause remains: only the timed pause does.
//
// Annunciation (IEC 60601-1-8 Tables 2-4; times in ms):
//   high:   10 pulses "3+2, 3+2", pulse 100 ms, spacing 100 ms (3rd->4th 2·ts+td = 300 ms,
//           5th->6th 1000 ms), burst every 8 s, 960 Hz; red LED flashing 2 Hz, 50 % duty
//   medium: 3 pulses, pulse 200 ms, spacing 200 ms, burst every 10 s, 720 Hz; yellow LED
//           flashing 0.5 Hz, 50 % duty
//   low:    2 pulses, pulse 200 ms, spacing 200 ms, burst every 20 s, 480 Hz; yellow LED steady
// Every pulse starts on a multiple of the 100 ms control period: the firmware starts a pulse of
// pulseMs (timed by the buzzer) on the tick that sees the tone rise, so an offset off the tick
// grid would be sounded up to one period late and break the spacing limits.
// Standard limits: high td 75-200, ts 50-125, 5th->6th 350-1300, interburst 2.5-15 s; medium
// td 125-250, ts 125-250, interburst 2.5-30 s; low td 125-250, interburst > 15 s. Red LED
// 1.4-2.8 Hz, yellow 0.4-0.8 Hz, duty 20-60 %.

import { EventSink } from "../eventLog"
import { umod } from "../units"
import { ALARM_DEFS, AlarmCode, AlarmDef, AlarmPriority } from "./alarmCodes"

export const AUDIO_PAUSE_MS = 120000

export interface BurstPattern {
    /** Pulse start offsets within a burst (ms). */
    pulses: number[]
    pulseMs: number
    periodMs: number
    toneHz: number
}

export const HIGH_PATTERN: BurstPattern = {
    pulses: [0, 200, 400, 800, 1000, 2100, 2300, 2500, 2900, 3100],
    pulseMs: 100,
    periodMs: 8000,
    toneHz: 960,
}
export const MEDIUM_PATTERN: BurstPattern = { pulses: [0, 400, 800], pulseMs: 200, periodMs: 10000, toneHz: 720 }
export const LOW_PATTERN: BurstPattern = { pulses: [0, 400], pulseMs: 200, periodMs: 20000, toneHz: 480 }

export function patternFor(p: AlarmPriority): BurstPattern {
    return p === "high" ? HIGH_PATTERN : p === "medium" ? MEDIUM_PATTERN : LOW_PATTERN
}

/** Priorities in rising order: indexOf ranks them (0 < 4 < 11), as priorityRank does. */
const RANKS = "low medium high"

export interface Annunciation {
    /** "" when no alarm is latched. */
    code: string
    priority: string
    text: string
    /** Buzzer frequency now (0 = silent). */
    toneHz: number
    /** Length of one pulse of the current pattern (ms), for buzzers driven per pulse. */
    pulseMs: number
    redLed: boolean
    yellowLed: boolean
    audioPaused: boolean
    /** Number of latched alarms (the display lists them all). */
    latchedCount: number
}

export interface AlarmSlot {
    def: AlarmDef
    cause: boolean
    latched: boolean
    acked: boolean
    raisedMs: number
    detail: string
}

/** Nothing latched: one shared record, so a quiet tick allocates nothing (never mutated). */
const SILENT: Annunciation = { code: "", priority: "", text: "", toneHz: 0, pulseMs: 0, redLed: false, yellowLed: false, audioPaused: false, latchedCount: 0 }

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class AlarmManager {
    private readonly log: EventSink
    /** One slot per ALARM_DEFS entry (read directly by the monitor's tick: no call per read). */
    readonly slots: AlarmSlot[] = []
    private pausedUntilMs = -1
    /** Latched slots, kept as they latch and clear, so the common case (nothing latched) costs
     *  one compare per tick instead of a walk over every slot. */
    latchedN = 0
    /** Counts every latch and every clear: a caller that saw the same count saw the same latched set. */
    latchEdges = 0

    constructor(log: EventSink) {
        this.log = log
        for (let i = 0; i < ALARM_DEFS.length; i++) {
            this.slots.push({ def: ALARM_DEFS[i], cause: false, latched: false, acked: false, raisedMs: 0, detail: "" })
        }
    }

    /** Reports whether `code`'s cause is present now. Raising latches; a cause going away
     *  clears the alarm only if it was already acknowledged. */
    setCause(nowMs: number, code: AlarmCode, present: boolean, detail: string) {
        const i = this.indexOf(code)
        if (i < 0) {
            this.log.record(nowMs, "ALARM_UNKNOWN", code + " " + detail)
            return
        }
        this.setCauseAt(nowMs, i, present, detail)
    }

    /** Slot index of `code` (-1 if unknown): resolved once by callers on the control tick's hot
     *  path, which then use the ...At methods and never compare code strings per tick. */
    indexOf(code: AlarmCode): number {
        for (let i = 0; i < this.slots.length; i++) if (this.slots[i].def.code === code) return i
        return -1
    }

    /** setCause by slot index (from indexOf). `detail` is only read when the alarm latches. */
    setCauseAt(nowMs: number, i: number, present: boolean, detail: string) {
        const s = this.slots[i]
        s.cause = present
        if (present && !s.latched) {
            s.latched = true
            this.latchedN++
            this.latchEdges++
            s.acked = false
            s.raisedMs = nowMs
            s.detail = detail
            // A new alarm always ends an audio pause (escalation; IEC 60601-1-8 6.8.4).
            if (this.pausedUntilMs >= 0) this.log.record(nowMs, "AUDIO_PAUSE_END", "new alarm " + s.def.code)
            this.pausedUntilMs = -1
            this.log.record(nowMs, "ALARM_ON", s.def.code + " " + s.def.priority + " " + detail)
        }
        if (!present && s.latched && s.acked) this.clearSlot(nowMs, s)
    }

    /** Operator acknowledges all latched alarms; those whose cause is gone clear now, the rest
     *  clear as soon as their cause goes. Returns how many cleared. */
    acknowledge(nowMs: number): number {
        let cleared = 0
        for (let i = 0; i < this.slots.length; i++) {
            const s = this.slots[i]
            if (!s.latched) continue
            if (!s.acked) this.log.record(nowMs, "ALARM_ACK", s.def.code + (s.cause ? " (cause still present)" : ""))
            s.acked = true
            if (!s.cause) {
                this.clearSlot(nowMs, s)
                cleared++
            }
        }
        return cleared
    }

    /** Pauses the audio (not the lights) for 2 min; refused when nothing is latched. */
    pauseAudio(nowMs: number): boolean {
        if (this.latchedN === 0) return false
        this.pausedUntilMs = nowMs + AUDIO_PAUSE_MS
        this.log.record(nowMs, "AUDIO_PAUSE", "until t=" + this.pausedUntilMs)
        return true
    }

    isLatched(code: AlarmCode): boolean {
        const i = this.indexOf(code)
        return i < 0 ? false : this.slots[i].latched
    }

    latchedCount(): number {
        return this.latchedN
    }

    /** Code of the first latched alarm (table order) that requires delivery to stop; "" if none. */
    stoppingCode(): string {
        if (this.latchedN > 0) {
            for (let i = 0; i < this.slots.length; i++) {
                const d = this.slots[i].def
                if (this.slots[i].latched && d.stopsDelivery) return d.code
            }
        }
        return ""
    }

    latchedCodes(): AlarmCode[] {
        const out: AlarmCode[] = []
        for (let i = 0; i < this.slots.length; i++) if (this.slots[i].latched) out.push(this.slots[i].def.code)
        return out
    }

    annunciation(nowMs: number): Annunciation {
        if (this.latchedN === 0) return SILENT
        // The highest priority latched alarm, the oldest among equals ("low medium high".indexOf
        // ranks the priorities: 0 < 4 < 11).
        let top: AlarmSlot = null
        for (let i = 0; i < this.slots.length; i++) {
            const s = this.slots[i]
            if (!s.latched) continue
            if (!top) {
                top = s
                continue
            }
            const a = RANKS.indexOf(s.def.priority)
            const b = RANKS.indexOf(top.def.priority)
            if (a > b || (a === b && s.raisedMs < top.raisedMs)) top = s
        }
        if (!top) return SILENT
        if (this.pausedUntilMs >= 0 && nowMs >= this.pausedUntilMs) {
            this.pausedUntilMs = -1
            this.log.record(nowMs, "AUDIO_PAUSE_END", "2 min elapsed; " + top.def.code + " sounds again")
        }
        const paused = this.pausedUntilMs >= 0
        const p = top.def.priority
        const t = nowMs - top.raisedMs
        // Pattern and lights by priority (each priority compared once).
        // umod: t passes 2^31 ms after 24.8 days of one alarm, where the VM's int32 `%` goes negative.
        let pat = LOW_PATTERN
        let red = false
        let yellow = true
        if (p === "high") {
            pat = HIGH_PATTERN
            red = umod(t, 500) < 250
            yellow = false
        } else if (p === "medium") {
            pat = MEDIUM_PATTERN
            yellow = umod(t, 2000) < 1000
        }
        let tone = 0
        if (!paused && pulseOn(pat, t)) tone = pat.toneHz
        return {
            code: top.def.code,
            priority: p,
            text: top.def.text + (top.detail.length > 0 ? " (" + top.detail + ")" : ""),
            toneHz: tone,
            pulseMs: pat.pulseMs,
            redLed: red,
            yellowLed: yellow,
            audioPaused: paused,
            latchedCount: this.latchedN,
        }
    }

    private clearSlot(nowMs: number, s: AlarmSlot) {
        s.latched = false
        this.latchedN--
        this.latchEdges++
        s.acked = false
        this.log.record(nowMs, "ALARM_CLEAR", s.def.code)
        if (this.latchedN === 0) this.pausedUntilMs = -1
    }
}

/** true while a pulse of the pattern sounds `t` ms after the alarm was raised. */
export function pulseOn(pat: BurstPattern, t: number): boolean {
    if (t < 0) return false
    const inBurst = umod(t, pat.periodMs)
    for (let i = 0; i < pat.pulses.length; i++) {
        const s = pat.pulses[i]
        if (inBurst >= s && inBurst < s + pat.pulseMs) return true
    }
    return false
}
