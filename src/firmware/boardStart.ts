// Shared start-up of a real pump board, called by each board's entry file (the entry files only
// exist because server configs must name `pins.X` literally from their own @dsboard import).

import { bootFirmware, runFirmware } from "./app"
import { startPanel } from "./panel"
import { initDrive } from "./drive"
import { boardLibrarySource } from "./librarySource"
import { DeviceServices, PanelDisplay, PanelKeySource, PumpHardware } from "../hal/types"

/** A real pump starts Idle: no default program is loaded; a program arrives through the front
 *  panel. The board images start no remote link: the panel and the remote interface do not both
 *  fit in the VM's 64 KB of function bytecode, and a pump that cannot be programmed at its
 *  bedside is no pump (docs/front-panel.md, "Size"). The simulator image keeps the link. */
/** `library`: the signed drug library built into this image (src/generated/boardLibrary.ts). */
export async function runBoardPump(boardId: string, hw: PumpHardware, dev: DeviceServices, library: Buffer, display: PanelDisplay, keys: PanelKeySource) {
    const fw = await bootFirmware(hw, dev, boardId + "-", boardLibrarySource(library))
    // Configure and verify the TMC5160 (enable line low throughout); a controller that is
    // missing or wrong latches DRIVE_FAULT now rather than at the first start.
    await initDrive(fw)
    runFirmware(fw, null, false)
    // The front panel: on its own timer, never inside the control tick (docs/front-panel.md).
    startPanel(fw, display, keys)
}
