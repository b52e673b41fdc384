// Shared start-up of a real pump board, called by each board's entry file (the entry files only
// exist because server configs must name `pins.X` literally from their own @dsboard import).

import { bootFirmware, runFirmware } from "./app"
import { errorText } from "./control"
import { DeviceServices, PumpHardware } from "../hal/types"

/** A real pump starts Idle: no default program is loaded; a program arrives through the UI. */
export async function runBoardPump(boardId: string, hw: PumpHardware, dev: DeviceServices) {
    const fw = await bootFirmware(hw, dev, boardId + "-")
    // The co-processor may still hold a queue from before a host reset: flush it. If it does not
    // answer, the pump cannot deliver; latch DRIVE_FAULT now rather than at the first start.
    try {
        await hw.stepper.enable(false)
    } catch (e) {
        fw.pump.raiseAlarm(dev.clock.nowMs(), "DRIVE_FAULT", "step engine not answering at boot: " + errorText(e))
    }
    runFirmware(fw, null, false)
}
