// Drive check: the plunger position sensor must follow the steps the engine reports fired
// (a stall, a slipping coupling or a lost step count shows as a position error).

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class DrivePositionCheck {
    private refFiredSteps = 0
    private refPosUm = 0
    private refValid = false
    /** Position error of the last moving tick (µm). */
    errorUm = 0

    /** true when the position differs from the fired steps by more than `limitUm` while
     *  the plunger is being moved; while stopped the reference follows the plunger. */
    update(moving: boolean, firedSteps: number, positionUm: number, umPerStep: number, limitUm: number): boolean {
        if (!moving || !this.refValid) {
            this.refFiredSteps = firedSteps
            this.refPosUm = positionUm
            this.refValid = true
            if (!moving) return false
        }
        const expectedUm = this.refPosUm + (firedSteps - this.refFiredSteps) * umPerStep
        this.errorUm = positionUm - expectedUm
        return this.errorUm > limitUm || this.errorUm < -limitUm
    }
}
