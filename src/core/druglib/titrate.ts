// Retitration of a running infusion: the new dose passes every library check of the original
// program (hard limits refuse, soft limits need confirmation) before the pump's rate changes.

import { EventSink } from "../eventLog"
import { CommandResult, PumpController } from "../pump"
import { checkTitration, DoseRequest, DoseResult } from "./dosing"
import { DrugLibrary } from "./model"

export interface TitrationResult {
    /** Library verdict ("ok", "confirm", "refused") with reasons and soft excursions. */
    check: DoseResult
    /** The pump's answer when the library allowed the change; null otherwise. */
    command: CommandResult
}

export function titrateDose(
    pump: PumpController,
    lib: DrugLibrary,
    active: DoseRequest,
    newDose: number,
    confirmed: string[],
    log: EventSink,
    nowMs: number
): TitrationResult {
    const check = checkTitration(lib, active, newDose, confirmed, log, nowMs)
    if (check.status !== "ok") return { check: check, command: null }
    return { check: check, command: pump.titrate(nowMs, check.program.rateUlPerH) }
}
