// Shared start-up of a real pump board, called by each board's entry file (the entry files only
// exist because server configs must name `pins.X` literally from their own @dsboard import).

import { bootFirmware, runFirmware, startRemoteLink } from "./app"
import { initDrive } from "./drive"
import { DeviceServices, PumpHardware } from "../hal/types"

/** A real pump starts Idle: no default program is loaded; a program arrives through the UI. */
export async function runBoardPump(boardId: string, hw: PumpHardware, dev: DeviceServices) {
    const fw = await bootFirmware(hw, dev, boardId + "-")
    await startRemoteLink(fw)
    // Configure and verify the TMC5160 (enable line low throughout); a controller that is
    // missing or wrong latches DRIVE_FAULT now rather than at the first start.
    await initDrive(fw)
    runFirmware(fw, null, false)
}
