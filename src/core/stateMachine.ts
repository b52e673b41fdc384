// The pump state machine (src/core/pumpStates.ts) with its transition table as objects, for host
// tests and tools. The firmware imports pumpStates.ts and never this module: 49 table objects
// took 4.6 KB of the VM's 64 KB heap (REQ-HEAP-002); the table itself is one string there.

import { ALL_STATES, PumpEvent, PumpState, transitionTarget } from "./pumpStates"

export * from "./pumpStates"

/** Every event (host only: the firmware names events as literals). */
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

export interface Transition {
    from: PumpState
    event: PumpEvent
    to: PumpState
}

/** Every (state, event) the machine allows, with its target ("alarmReset" is not in the table:
 *  its target depends on the state the alarm interrupted). */
export const TRANSITIONS: Transition[] = []
for (const from of ALL_STATES)
    for (const event of ALL_EVENTS) {
        const to = transitionTarget(from, event)
        if (to) TRANSITIONS.push({ from, event, to })
    }
