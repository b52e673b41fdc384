// Motion controller start-up shared by every entry: configure and verify the TMC5160 before
// the control loop can ask for motion. A controller that is missing or wrong latches
// DRIVE_FAULT now rather than at the first start.

import { PumpFirmware } from "./app"
import { errorText } from "./control"

export async function initDrive(fw: PumpFirmware) {
    try {
        await fw.hw.stepper.init()
    } catch (e) {
        fw.pump.raiseAlarm(fw.dev.clock.nowMs(), "DRIVE_FAULT", "motion controller failed at boot: " + errorText(e))
    }
    // Let the runtime take the reports that arrived during the configuration (see bootFirmware).
    await fw.dev.clock.sleep(1)
}
