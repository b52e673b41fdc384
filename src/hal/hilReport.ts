// Rig bookkeeping of the HIL adapter (src/hal/hil.ts): the role-binding lines and the shaft steps
// the rig moves the plant by. Its own file because the chip-speed runner does not charge this
// file's functions (nor what they call) as chip time: a board does no such reporting
// (hil-tests/runner/vclock/chip.ts, RIG_FILES).

import * as ds from "@devicescript/core"
import { HIL_PREFIX } from "./hilTypes"
import type { HilSignals, RigMotion } from "./hil"

/** Rig bookkeeping period: role-binding lines and the shaft steps (steps= lines). */
export const HIL_POLL_MS = 100

/** Role names in the `role=` lines, in HilSignals.roles order. */
const ROLE_NAMES = ["pressure", "air", "door", "plunger", "battery", "position", "keypad"]
/** boundBits with every role bound. */
const ALL_BOUND = 127

/** Logs every bind/unbind so the rig can wait for the firmware to see all of its signals. Polled
 *  (every HIL_POLL_MS, createHilHardware): a binding subscription per role kept a client register, an
 *  emitter, its handler list and two closure frames alive, about 300 B of VM heap each (2.2 KB
 *  for the seven roles, in both HIL images). */
function reportBindings(g: HilSignals) {
    for (let i = 0; i < ROLE_NAMES.length; i++) {
        const bit = 1 << i
        const bound = g.roles[i].isBound
        if (bound !== ((g.boundBits & bit) !== 0)) {
            g.boundBits ^= bit
            console.log(HIL_PREFIX + "t=" + ds.millis() + " role=" + ROLE_NAMES[i] + " bound=" + (bound ? 1 : 0))
        }
    }
}

/** Role bindings and the model's shaft steps every HIL_POLL_MS, kept at the control period so
 *  each timer turn (which costs the VM's timer queue too) is rare. Bindings: every poll until all
 *  seven roles are bound (the rig waits for that at boot), then once a second (an unbinding
 *  later only informs the rig's log; the firmware's own staleness rule is what acts on a lost
 *  sensor). */
export function startRigReports(g: HilSignals, motion: RigMotion) {
    let polls = 0
    setInterval(() => {
        motion.report()
        if (g.boundBits !== ALL_BOUND || ++polls % 10 === 0) reportBindings(g)
    }, HIL_POLL_MS)
}
