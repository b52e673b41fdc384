// HIL firmware body with the front panel: the pump boots Idle, as a board does, and is programmed
// only through the panel's keys (the rig's keypad) from a signed drug library built into the image;
// every frame of the display goes to the console (`PANEL inv=0 |row|...|`), where the rig reads it.
// Its own image (hil-tests/runner/vclock/build.ts), so the panel costs nothing in the HIL image of
// the key-less scenarios.

import { boardLibrarySource } from "./librarySource"
import { bootHil, keypadKeys } from "./hilRun"
import { startStatusLines } from "./hilStatus"
import { provisionDeviceKey } from "./libraryDevice"
import { runFirmware } from "./app"
import { startPanel } from "./panel"
import { HIL_PREFIX, HilRig } from "../hal/hilTypes"
import { DeviceServices, PanelDisplay } from "../hal/types"

/** `keyHex`: the run's development device key (64 hex digits), provisioned before boot as a
 *  factory would; `signedLibrary`: the library signed with it, verified at boot like a board's;
 *  `display`: the console display (startConsoleDisplay), whose frames the rig reads. */
export async function runHilPanel(rig: HilRig, dev: DeviceServices, keyHex: string, signedLibrary: Buffer, display: PanelDisplay) {
    await provisionDeviceKey(dev.settings, keyHex)
    const fw = await bootHil(rig, dev, boardLibrarySource(signedLibrary))
    runFirmware(fw, null, false)
    console.log(HIL_PREFIX + "t=" + dev.clock.nowMs() + " program=panel")
    startPanel(fw, display, keypadKeys(rig, dev.clock))
    startStatusLines(fw, rig, null)
}
