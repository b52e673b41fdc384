// The HIL status line (src/firmware/hilRun.ts, hilPanel.ts): rig reporting, not pump work. Its
// own file because the chip-speed runner does not charge this file's functions (nor what they
// call) as chip time: a board prints no such line (hil-tests/runner/vclock/chip.ts, RIG_FILES).

import { PumpFirmware } from "./app"
import { HIL_PREFIX, HilRig, HilTmcFault } from "../hal/hilTypes"

/** Status line period: fast enough for the rig to time alarms to ±100 ms. */
export const HIL_STATUS_MS = 100

/** The status line every HIL_STATUS_MS (state, alarm, volumes, steps, latched alarms) the rig
 *  times everything by; injects the scenario's controller fault when due. */
export function startStatusLines(fw: PumpFirmware, rig: HilRig, tmcFault: HilTmcFault) {
    const clock = fw.dev.clock
    const hw = fw.hw
    const pump = fw.pump
    let runningSinceMs = -1
    let injected = false
    clock.every(HIL_STATUS_MS, async () => {
        // Shaft steps first, so the status line's interval carries none of them.
        rig.reportMotion()
        // Per-field readers, not status() (a 292-byte object every 100 ms; REQ-HEAP-002).
        const state = pump.state()
        const code = pump.alarmCodeNow()
        const infusedUl = pump.infusedUlNow()
        const bolusUl = pump.bolusUlNow()
        if (tmcFault && !injected) {
            const now = clock.nowMs()
            if (runningSinceMs < 0 && state === "Running") runningSinceMs = now
            if (runningSinceMs >= 0 && now - runningSinceMs >= tmcFault.afterMs) {
                injected = true
                rig.injectDriveFault(tmcFault.fault)
            }
        }
        // Every latched alarm, so the rig can count each alarm's rising edges.
        const alarms = fw.safety.monitor.alarms
        const latched = alarms.latchedCount() === 0 ? "-" : alarms.latchedCodes().join(",")
        const fired = await hw.stepper.firedCount()
        // (One concatenation per statement: a longer chain with the await trips the devs compiler.)
        let line = HIL_PREFIX + "t=" + clock.nowMs() + " state=" + state + " alarm=" + (code.length > 0 ? code : "-")
        line = line + " infused=" + infusedUl + " bolus=" + bolusUl + " fired=" + fired
        console.log(line + " latched=" + latched)
    })
}
