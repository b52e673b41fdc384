// Pump state machine with an explicit transition table. A command not in the table for the
// current state is rejected with a reason; nothing is ever silently ignored.

export type PumpState =
    | "Idle"
    | "Programmed"
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

export interface Transition {
    from: PumpState
    event: PumpEvent
    to: PumpState
}

export const ALL_STATES: PumpState[] = [
    "Idle",
    "Programmed",
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
]

function t(from: PumpState, event: PumpEvent, to: PumpState): Transition {
    return { from: from, event: event, to: to }
}

// "alarmReset" has no fixed target: delivery never restarts by itself, so an alarm raised while
// delivering returns to Paused and any other alarm returns to the state it interrupted.
// One "from event to" row per line, held as text: a string literal is image data, while a table
// of calls costs about 12 bytes of function bytecode per row (the VM limits function bytecode,
// docs/requirements.md TODO-CODE-1). The host test checks every name against ALL_STATES/ALL_EVENTS.
const TRANSITION_TEXT =
    "Idle program Programmed\n" +
    "Programmed program Programmed\n" +
    "Programmed start Running\n" +
    "Programmed clear Idle\n" +
    "Running pause Paused\n" +
    "Running bolus Bolus\n" +
    "Running vtbiDoneKvo KVO\n" +
    "Running vtbiDone Complete\n" +
    "Running stop Programmed\n" +
    "Bolus bolusDone Running\n" +
    "Bolus pause Paused\n" +
    "Bolus vtbiDoneKvo KVO\n" +
    "Bolus vtbiDone Complete\n" +
    "Bolus stop Programmed\n" +
    "Paused resume Running\n" +
    "Paused stop Programmed\n" +
    "KVO stop Complete\n" +
    "KVO pause Paused\n" +
    "Complete program Programmed\n" +
    "Complete clear Idle\n" +
    "Running titrate Running\n" +
    "Paused titrate Paused"

export const TRANSITIONS: Transition[] = []
const transitionRows = TRANSITION_TEXT.split("\n")
for (let i = 0; i < transitionRows.length; i++) {
    const f = transitionRows[i].split(" ")
    // Look each name up so the table holds the constant strings, not 66 heap copies (VM heap).
    const from = ALL_STATES[ALL_STATES.indexOf(f[0] as PumpState)]
    TRANSITIONS.push(t(from, ALL_EVENTS[ALL_EVENTS.indexOf(f[1] as PumpEvent)], ALL_STATES[ALL_STATES.indexOf(f[2] as PumpState)]))
}

// Alarm and out-of-service are reachable from every state but the terminal ones.
for (let i = 0; i < ALL_STATES.length; i++) {
    const s = ALL_STATES[i]
    if (s !== "Alarm" && s !== "OutOfService") TRANSITIONS.push(t(s, "alarm", "Alarm"))
    if (s !== "OutOfService" && s !== "Running" && s !== "Bolus" && s !== "KVO")
        TRANSITIONS.push(t(s, "outOfService", "OutOfService"))
}
TRANSITIONS.push(t("OutOfService", "returnToService", "Idle"))

export interface TransitionResult {
    ok: boolean
    to: PumpState
    reason: string
}

export function isDelivering(s: PumpState): boolean {
    return s === "Running" || s === "Bolus" || s === "KVO"
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
        this.current = isDelivering(s) ? "Paused" : s
    }

    private resetTarget(): PumpState {
        const b = this.beforeAlarm
        if (isDelivering(b)) return "Paused"
        return b
    }
}
