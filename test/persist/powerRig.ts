// The power-loss test rig shared by the persistence tests: a pump with its power-safety snapshot
// and progress cells on memory page stores, and the control loop run on a virtual clock.

import { EventLog } from "../../src/core/eventLog"
import { DurableCell } from "../../src/core/log/durableCell"
import { MemoryPageStore } from "../../src/core/log/pageStore"
import { PowerSafety } from "../../src/core/persist/powerSafety"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"

/** Boots a pump over `snap` (the snapshot cell) and `prog` (the progress cell), saving every
 *  `intervalMs`; `result` is what the boot restored. */
export function bootPump(snap: MemoryPageStore, prog: MemoryPageStore, intervalMs: number) {
    const log = new EventLog(500)
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
    const safety = new PowerSafety(new DurableCell(snap, 0, "snap"), intervalMs, log, new DurableCell(prog, 0, "p"))
    const result = safety.boot(0, pump)
    return { log, pump, safety, result }
}

/** Control ticks from `from` to `to` ms with the 100 ms persistence poll; the microsteps fired. */
export function run(pump: PumpController, safety: PowerSafety, from: number, to: number): number {
    let steps = 0
    for (let t = from; t <= to; t += CONTROL_PERIOD_MS) {
        steps += pump.update(t).steps
        if (t % 100 === 0) safety.poll(t, pump)
    }
    return steps
}
