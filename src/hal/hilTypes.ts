// What the HIL firmware body (src/firmware/hilRun.ts) needs from the rig adapter (src/hal/hil.ts),
// without its @devicescript imports: the line prefix the rig parses, the keypad layout, and the rig.

import { PumpHardware } from "./types"

export const HIL_PREFIX = "HIL "

/** Membrane keypad layout, left to right. */
export const KEY_NAMES = ["start", "pause", "stop", "bolus", "ack"]

export interface HilRig {
    hw: PumpHardware
    /** True once every rig signal has reported recently. */
    allSignalsFresh(nowMs: number): boolean
    /** Calls `fn` with the indices of the keys held, at every keypad reading (undefined: none). */
    onKeypad(fn: (pressed: number[]) => void): void
}
