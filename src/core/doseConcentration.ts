// Concentration of the loaded syringe, for the dose-given display (PumpStatus.doseGivenThousandths)
// and the dose limits. Only PumpController.setConcentration builds one, so an image that never
// sets a concentration carries neither this class nor the exact-arithmetic fallback
// (druglib/exact.ts): the 64 KB function-bytecode budget (TODO-CODE-1).

import { gcd, ratioRound } from "./druglib/exact"
import { floorDiv, PL_PER_UL } from "./units"

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class DoseConcentration {
    /** Amount unit code (druglib/doseUnits.ts AMT_*). */
    readonly amountUnit: number
    readonly amountThousandths: number
    readonly volumeUl: number
    /** dose[thousandths] = steps × num / den (rounded); num = 0 and den = 0 when the exact
     *  fraction does not fit a double, and the exact fallback is used instead. */
    readonly num: number
    readonly den: number

    /** `amountThousandths` of `amountUnit` in `volumeUl` µL, on a syringe of `plPerMicrostep`
     *  whose full travel is `travelSteps`. */
    constructor(amountUnit: number, amountThousandths: number, volumeUl: number, plPerMicrostep: number, travelSteps: number) {
        this.amountUnit = amountUnit
        this.amountThousandths = amountThousandths
        this.volumeUl = volumeUl
        // Precompute steps → thousandths as one exact fraction with common factors cancelled, so
        // status() costs a multiply and a division; the exact fallback covers huge factors.
        let num = plPerMicrostep * amountThousandths
        let den = volumeUl * PL_PER_UL
        const g = gcd(num, den)
        num = num / g
        den = den / g
        const fits = num * travelSteps * 2 + den < 9007199254740991 && num < 9007199254740991
        this.num = fits ? num : 0
        this.den = fits ? den : 0
    }

    /** Drug in `steps` at `plPerMicrostep`, in thousandths of amountUnit (nearest, halves up). */
    givenThousandths(steps: number, plPerMicrostep: number): number {
        if (this.den > 0) return floorDiv(steps * this.num * 2 + this.den, this.den * 2)
        return ratioRound([steps, plPerMicrostep, this.amountThousandths], [this.volumeUl, PL_PER_UL]).value
    }
}
