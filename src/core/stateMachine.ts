// Pump state machine with an explicit transition table. A command not in the table for the
// current state is rejected with a reason; nothing is ever silently ignored.

export type PumpState =
    | "Idle"
    | "Programmed"
    | "Standby" // programmed and waiting: starts at a set time or on confirmation (start)
    | "Loading" // loading dose, its own rate and duration, before the maintenance rate
    | "Running"
    | "Paused"
    | "Bolus"
    | "KVO"
    | "Complete"
    | "Alarm"
    | "OutOfService"

export type PumpEvent =
    | "program" // a validated program was loaded
    | "start"
    | "pause"
    | "resume"
    | "bolus"
    | "bolusDone"
    | "vtbiDoneKvo" // VTBI reached and a KVO rate is programmed
    | "vtbiDone" // VTBI reached, no KVO
    | "stop" // operator ends the infusion; program kept
    | "clear" // forget the program
    | "alarm" // a high-priority alarm stops delivery
    | "alarmReset" // alarm acknowledged with its cause gone
    | "outOfService"
    | "returnToService"
    | "titrate" // new rate for the running infusion (drug-library checked by the caller)
    | "startLoading" // start with a loading dose still owed: the loading phase runs first
    | "resumeLoading" // resume a paused infusion whose loading dose is not finished
    | "loadingDone" // loading volume delivered: continue at the maintenance rate
    | "standby" // hold a programmed infusion for a delayed start

export interface Transition {
    from: PumpState
    event: PumpEvent
    to: PumpState
}

export const ALL_STATES: PumpState[] = [
    "Idle",
    "Programmed",
    "Standby",
    "Loading",
    "Running",
    "Paused",
    "Bolus",
    "KVO",
    "Complete",
    "Alarm",
    "OutOfService",
]

export const ALL_EVENTS: PumpEvent[] = [
    "program",
    "start",
    "pause",
    "resume",
    "bolus",
    "bolusDone",
    "vtbiDoneKvo",
    "vtbiDone",
    "stop",
    "clear",
    "alarm",
    "alarmReset",
    "outOfService",
    "returnToService",
    "titrate",
    "startLoading",
    "resumeLoading",
    "loadingDone",
    "standby",
]

function t(from: PumpState, event: PumpEvent, to: PumpState): Transition {
    return { from: from, event: event, to: to }
}

// "alarmReset" has no fixed target: delivery never restarts by itself, so an alarm raised while
// delivering returns to Paused and any other alarm returns to the state it interrupted.
export const TRANSITIONS: Transition[] = [
    t("Idle", "program", "Programmed"),
    t("Programmed", "program", "Programmed"),
    t("Programmed", "start", "Running"),
    t("Programmed", "clear", "Idle"),
    t("Running", "pause", "Paused"),
    t("Running", "bolus", "Bolus"),
    t("Running", "vtbiDoneKvo", "KVO"),
    t("Running", "vtbiDone", "Complete"),
    t("Running", "stop", "Programmed"),
    t("Bolus", "bolusDone", "Running"),
    t("Bolus", "pause", "Paused"),
    t("Bolus", "vtbiDoneKvo", "KVO"),
    t("Bolus", "vtbiDone", "Complete"),
    t("Bolus", "stop", "Programmed"),
    t("Paused", "resume", "Running"),
    t("Paused", "stop", "Programmed"),
    t("KVO", "stop", "Complete"),
    t("KVO", "pause", "Paused"),
    t("Complete", "program", "Programmed"),
    t("Complete", "clear", "Idle"),
    t("Running", "titrate", "Running"),
    t("Paused", "titrate", "Paused"),
    // Loading dose phase (no bolus and no titration during it: it is a bolus of its own).
    t("Programmed", "startLoading", "Loading"),
    t("Loading", "loadingDone", "Running"),
    t("Loading", "pause", "Paused"),
    t("Loading", "stop", "Programmed"),
    t("Loading", "vtbiDoneKvo", "KVO"),
    t("Loading", "vtbiDone", "Complete"),
    t("Paused", "resumeLoading", "Loading"),
    // Standby / delayed start: "start" is the confirmation, or the pump sends it at the set time.
    t("Programmed", "standby", "Standby"),
    t("Standby", "start", "Running"),
    t("Standby", "startLoading", "Loading"),
    t("Standby", "stop", "Programmed"),
]

// Alarm and out-of-service are reachable from every state but the terminal ones.
for (let i = 0; i < ALL_STATES.length; i++) {
    const s = ALL_STATES[i]
    if (s !== "Alarm" && s !== "OutOfService") TRANSITIONS.push(t(s, "alarm", "Alarm"))
    if (s !== "OutOfService" && s !== "Running" && s !== "Bolus" && s !== "KVO" && s !== "Loading")
        TRANSITIONS.push(t(s, "outOfService", "OutOfService"))
}
TRANSITIONS.push(t("OutOfService", "returnToService", "Idle"))

export interface TransitionResult {
    ok: boolean
    to: PumpState
    reason: string
}

export function isDelivering(s: PumpState): boolean {
    return s === "Running" || s === "Bolus" || s === "KVO" || s === "Loading"
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class PumpStateMachine {
    private current: PumpState = "Idle"
    private beforeAlarm: PumpState = "Idle"

    state(): PumpState {
        return this.current
    }

    /** State the last alarm interrupted (for display and recovery). */
    interruptedState(): PumpState {
        return this.beforeAlarm
    }

    /** Looks up the transition without applying it. */
    check(event: PumpEvent): TransitionResult {
        if (this.current === "Alarm" && event === "alarmReset") {
            return { ok: true, to: this.resetTarget(), reason: "" }
        }
        for (let i = 0; i < TRANSITIONS.length; i++) {
            const tr = TRANSITIONS[i]
            if (tr.from === this.current && tr.event === event) return { ok: true, to: tr.to, reason: "" }
        }
        return { ok: false, to: this.current, reason: "'" + event + "' is not allowed in state " + this.current }
    }

    apply(event: PumpEvent): TransitionResult {
        const r = this.check(event)
        if (!r.ok) return r
        if (event === "alarm") this.beforeAlarm = this.current
        this.current = r.to
        return r
    }

    /** Restores a persisted state; delivering states come back as Paused (never auto-resume). */
    restore(s: PumpState) {
        // A standby's start time is not persisted: it comes back Programmed (no start by itself).
        this.current = isDelivering(s) ? "Paused" : s === "Standby" ? "Programmed" : s
    }

    private resetTarget(): PumpState {
        const b = this.beforeAlarm
        if (isDelivering(b)) return "Paused"
        return b
    }
}
