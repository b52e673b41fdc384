// Text codec for the power-loss snapshot stored in a DurableCell:
//   v1|state|interrupted|syringe|rate|vtbi|kvo|bolus|bolusS|steps|bolusSteps|alarm|oosReason
// ('-' for "no program"). The reason text is last so it may contain '|'. Decoding is strict:
// anything unexpected yields null and the pump starts Idle with the refusal logged.

import { PumpSnapshot } from "../pump"
import { InfusionProgram } from "../program"
import { ALL_STATES, PumpState } from "../pumpStates"

/** The integer >= 0 that `s` spells exactly as the encoders write it (decimal: no sign, exponent,
 *  spaces or leading zeros), else -1. One rule for the stored counters and snapshots. */
export function uintOf(s: string): number {
    const v = parseInt(s)
    return v >= 0 && "" + v === s ? v : -1
}

export function encodeSnapshot(s: PumpSnapshot): string {
    const p = s.program
    const prog = p
        ? p.syringeId + "|" + p.rateUlPerH + "|" + p.vtbiUl + "|" + p.kvoRateUlPerH + "|" + p.bolusUl + "|" + p.bolusDurationS
        : "-|0|0|0|0|0"
    return "v1|" + s.state + "|" + s.interrupted + "|" + prog + "|" + s.steps + "|" + s.bolusSteps + "|" + s.alarmCode + "|" + s.outOfServiceReason
}

export function decodeSnapshot(text: string): PumpSnapshot {
    if (!text) return null
    // 13 fields or more: the reason (last) may itself contain '|'.
    const f = text.split("|")
    if (f.length < 13 || f[0] !== "v1") return null
    const state = f[1] as PumpState
    const interrupted = f[2] as PumpState
    if (ALL_STATES.indexOf(state) < 0 || ALL_STATES.indexOf(interrupted) < 0) return null
    const nums: number[] = []
    for (let i = 4; i <= 10; i++) {
        const v = uintOf(f[i])
        if (v < 0) return null
        nums.push(v)
    }
    let program: InfusionProgram = null
    if (f[3] !== "-") {
        program = { syringeId: f[3], rateUlPerH: nums[0], vtbiUl: nums[1], kvoRateUlPerH: nums[2], bolusUl: nums[3], bolusDurationS: nums[4] }
    }
    return { state: state, interrupted: interrupted, program: program, steps: nums[5], bolusSteps: nums[6], alarmCode: f[11], outOfServiceReason: f.slice(12).join("|") }
}
