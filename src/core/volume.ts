// Volume accounting from the microsteps actually commanded to the drive, never from the rate
// (a rate says what should have happened; steps say what the plunger was told to do).

import { floorDiv, PL_PER_UL } from "./units"

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class VolumeAccount {
    private readonly picolitresPerMicrostep: number
    /** Steps accounted (read directly by the pump: a getter call per read costs image bytes). */
    totalSteps = 0
    /** Of which bolus steps. */
    bolusSteps = 0

    constructor(picolitresPerMicrostep: number) {
        this.picolitresPerMicrostep = picolitresPerMicrostep
    }

    add(steps: number, isBolus: boolean) {
        this.totalSteps += steps
        if (isBolus) this.bolusSteps += steps
    }

    /** Whole µL infused, rounded down. */
    infusedUl(): number {
        return floorDiv(this.totalSteps * this.picolitresPerMicrostep, PL_PER_UL)
    }

    /** Infused volume in nL, for reports that need sub-µL resolution. */
    infusedNl(): number {
        return floorDiv(this.totalSteps * this.picolitresPerMicrostep, 1000)
    }

    /** Infused volume for display: the nearest whole µL, halves up (presentation only; the
     *  accounting figure is infusedUl, rounded down). */
    displayUl(): number {
        return floorDiv(this.totalSteps * this.picolitresPerMicrostep + PL_PER_UL / 2, PL_PER_UL)
    }

    bolusUl(): number {
        return floorDiv(this.bolusSteps * this.picolitresPerMicrostep, PL_PER_UL)
    }

    /** Steps that deliver at most `ul` µL: a volume target is never overshot. */
    stepsFor(ul: number): number {
        return floorDiv(ul * PL_PER_UL, this.picolitresPerMicrostep)
    }
}
