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

// The transition table as ONE string literal, "|from event to" per transition: a literal lives in
// the image, not in the VM's 64 KB heap, where 49 {from, event, to} objects took 4.6 KB
// (REQ-HEAP-002, measured with the HIL heap census). The host view as objects is TRANSITIONS in
// stateMachine.ts, derived from transitionTarget() below (the firmware never imports it).
// "alarmReset" has no fixed target: delivery never restarts by itself, so an alarm raised while
// delivering returns to Paused and any other alarm returns to the state it interrupted.
const TABLE =
    "|Idle program Programmed|Programmed program Programmed|Programmed start Running|Programmed clear Idle" +
    "|Running pause Paused|Running bolus Bolus|Running vtbiDoneKvo KVO|Running vtbiDone Complete|Running stop Programmed" +
    "|Bolus bolusDone Running|Bolus pause Paused|Bolus vtbiDoneKvo KVO|Bolus vtbiDone Complete|Bolus stop Programmed" +
    "|Paused resume Running|Paused stop Programmed|KVO stop Complete|KVO pause Paused" +
    "|Complete program Programmed|Complete clear Idle|Running titrate Running|Paused titrate Paused" +
    // Loading dose phase (no bolus and no titration during it: it is a bolus of its own).
    "|Programmed startLoading Loading|Loading loadingDone Running|Loading pause Paused|Loading stop Programmed" +
    "|Loading vtbiDoneKvo KVO|Loading vtbiDone Complete|Paused resumeLoading Loading" +
    // Standby / delayed start: "start" is the confirmation, or the pump sends it at the set time.
    "|Programmed standby Standby|Standby start Running|Standby startLoading Loading|Standby stop Programmed" +
    "|OutOfService returnToService Idle|"

/** Target of `event` in state `from` by the table; null when it is not allowed there. */
export function transitionTarget(from: PumpState, event: PumpEvent): PumpState {
    // Alarm and out-of-service are reachable from every state but the terminal ones (and
    // out-of-service never while delivering).
    if (event === "alarm") return from !== "Alarm" && from !== "OutOfService" ? "Alarm" : null
    if (event === "outOfService") return from !== "OutOfService" && !isDelivering(from) ? "OutOfService" : null
    const key = "|" + from + " " + event + " "
    const i = TABLE.indexOf(key)
    if (i < 0) return null
    const to = i + key.length
    return TABLE.slice(to, TABLE.indexOf("|", to)) as PumpState
}

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
    /** The state now, read directly (no state() method: PumpController.state() keeps every
     *  method named `state` in the image, so a second one cost 52 B). */
    current: PumpState = "Idle"
    /** State the last alarm interrupted (for display and recovery). */
    beforeAlarm: PumpState = "Idle"

    /** Looks up the transition without applying it. */
    check(event: PumpEvent): TransitionResult {
        const cur = this.current
        const b = this.beforeAlarm
        // "alarmReset" has no fixed target: delivery never restarts by itself (isDelivering -> Paused).
        const to = cur === "Alarm" && event === "alarmReset" ? (isDelivering(b) ? "Paused" : b) : transitionTarget(cur, event)
        return to ? { ok: true, to: to, reason: "" } : { ok: false, to: cur, reason: "'" + event + "' is not allowed in state " + cur }
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
}
