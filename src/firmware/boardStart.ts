// Shared start-up of a real pump board, called by each board's entry file (the entry files only
// exist because server configs must name `pins.X` literally from their own @dsboard import).

import { bootFirmware, runFirmware, startRemoteLink } from "./app"
import { initDrive } from "./drive"
import { boardLibrarySource } from "./librarySource"
import { DeviceServices, PumpHardware } from "../hal/types"

/** A real pump starts Idle: no default program is loaded; a program arrives through the UI. */
/** `library`: the signed drug library built into this image (src/generated/boardLibrary.ts). */
export async function runBoardPump(boardId: string, hw: PumpHardware, dev: DeviceServices, library: Buffer) {
    const fw = await bootFirmware(hw, dev, boardId + "-", boardLibrarySource(library))
    await startRemoteLink(fw)
    // Configure and verify the TMC5160 (enable line low throughout); a controller that is
    // missing or wrong latches DRIVE_FAULT now rather than at the first start.
    await initDrive(fw)
    runFirmware(fw, null, false)
}
