// Carries out the front panel's command on the pump. One place, so the firmware and the host
// tests act on a UI command in exactly the same way.

import { CommandResult, PumpController } from "../pump"
import { UiCommand } from "./panel"

export interface AlarmKeys {
    /** Operator acknowledge (clears alarms whose cause is gone). */
    acknowledge(nowMs: number): void
    /** 2-minute audio pause; false when nothing is latched. */
    pauseAudio(nowMs: number): boolean
}

export function applyUiCommand(pump: PumpController, alarms: AlarmKeys, cmd: UiCommand, nowMs: number): CommandResult {
    if (!cmd) return null
    const op = cmd.op
    if (op === "start") {
        const r = pump.loadProgram(nowMs, cmd.program)
        return r.ok ? pump.start(nowMs) : r
    }
    if (op === "startLoaded") return pump.start(nowMs)
    if (op === "resume") return pump.resume(nowMs)
    if (op === "pause") return pump.pause(nowMs)
    if (op === "stop") return pump.stop(nowMs)
    if (op === "clear") return pump.clear(nowMs)
    if (op === "titrate") return pump.titrate(nowMs, cmd.rateUlPerH)
    if (op === "bolus") return pump.bolus(nowMs, cmd.bolusUl, cmd.bolusDurationS)
    if (op === "ack") {
        // Acknowledge = the 2-minute audio pause (IEC 60601-1-8); alarms whose cause is gone clear.
        alarms.pauseAudio(nowMs)
        alarms.acknowledge(nowMs)
        return { ok: true, reason: "" }
    }
    return { ok: false, reason: "unknown panel command " + op }
}
