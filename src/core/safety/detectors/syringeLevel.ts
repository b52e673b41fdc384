// Syringe level from the plunger position sensor: empty (remaining travel) and near empty
// (remaining time at the current rate).

import { SyringeSpec } from "../../syringe"

export interface SyringeLevel {
    empty: boolean
    nearEmpty: boolean
    leftUl: number
    /** Time left at the current rate (s; 1e9 when not infusing). */
    leftS: number
}

/** Fills `out` (the monitor keeps one record: no allocation per tick) and returns it. */
export function syringeLevel(
    out: SyringeLevel,
    syringe: SyringeSpec,
    positionUm: number,
    rateUlPerH: number,
    delivering: boolean,
    emptyTravelUm: number,
    nearEmptyMs: number
): SyringeLevel {
    if (!syringe) {
        out.empty = false
        out.nearEmpty = false
        out.leftUl = 0
        out.leftS = 1e9
        return out
    }
    const dMm = syringe.innerDiameterUm / 1000
    const ulPerUm = (Math.PI * dMm * dMm) / 4 / 1000
    const leftUm = syringe.plungerTravelUm - positionUm
    const leftUl = leftUm * ulPerUm
    const empty = leftUm <= emptyTravelUm
    const leftS = rateUlPerH > 0 ? (leftUl * 3600) / rateUlPerH : 1e9
    out.empty = empty
    out.nearEmpty = delivering && !empty && leftS * 1000 <= nearEmptyMs
    out.leftUl = leftUl
    out.leftS = leftS
    return out
}

/** Plunger position (µm) below which `syringeLevel` finds neither empty nor near empty at this
 *  rate, so a tick below it can skip the computation: empty starts at travel - emptyTravelUm,
 *  near empty where the travel left lasts nearEmptyMs at the rate (leftUm * µL/µm * 3.6e6 / rate
 *  <= nearEmptyMs). 1 µm lower, so rounding never skips a tick the exact check would flag. */
export function levelCheckFromUm(syringe: SyringeSpec, rateUlPerH: number, emptyTravelUm: number, nearEmptyMs: number): number {
    if (!syringe) return 1e15
    let leftUm = emptyTravelUm
    if (rateUlPerH > 0) {
        const dMm = syringe.innerDiameterUm / 1000
        const nearUm = (nearEmptyMs * rateUlPerH) / ((Math.PI * dMm * dMm) / 4 / 1000) / 3600000
        if (nearUm > leftUm) leftUm = nearUm
    }
    return syringe.plungerTravelUm - leftUm - 1
}
