// What the HIL firmware body (src/firmware/hilRun.ts) needs from the rig adapter (src/hal/hil.ts),
// without its @devicescript imports: the line prefix the rig parses, the keypad layout, and the rig.

import { TmcFault } from "./tmc5160Model"
import { PumpHardware } from "./types"

export const HIL_PREFIX = "HIL "

/** A sensor value older than this is reported missing: the role unbound or stopped streaming. */
export const SENSOR_STALE_MS = 500

/** Membrane keypad layout, left to right: the direct keys (start..ack) act on the pump in the
 *  HIL image without a panel; the panel image reads start, stop, up, down and ack. */
export const KEY_NAMES = ["start", "pause", "stop", "bolus", "ack", "up", "down"]

export interface HilRig {
    hw: PumpHardware
    /** True once every rig signal has reported recently. */
    allSignalsFresh(nowMs: number): boolean
    /** Calls `fn` with the indices of the keys held, at every keypad reading (undefined: none). */
    onKeypad(fn: (pressed: number[]) => void): void
    /** Prints the shaft steps the motion controller made since the last report (steps= line);
     *  called before every HIL line so each line ends an interval whose motion is on the console. */
    reportMotion(): void
    /** Injects a fault into the in-VM TMC5160 register model (HIL fault scenarios). */
    injectDriveFault(fault: TmcFault): void
}

/** A controller fault the rig injects into the in-VM TMC5160 model `afterMs` after the pump
 *  first enters Running (hil-tests scenarios' "tmcFault"). */
export interface HilTmcFault {
    fault: TmcFault
    afterMs: number
}
