// Simulator entry point (`npm start`): the pump firmware with the simulator adapter and a
// default infusion: 50 mL BD Plastipak, 10 mL/h, VTBI 5 mL, KVO 1 mL/h, started at once.
// After a power cut the saved infusion comes back Paused behind a POWER_RESTORED alarm and the
// default program is not loaded over it.

import { bootFirmware, runFirmware, startRemoteLink } from "../firmware/app"
import { initDrive } from "../firmware/drive"
import { settingsLibrarySource } from "../firmware/librarySource"
import { createRemoteDeviceServices } from "../hal/device"
import { createSimHardware } from "../hal/sim"

const dev = createRemoteDeviceServices()
const fw = await bootFirmware(createSimHardware(() => dev.clock.nowMs()), dev, "sim-", settingsLibrarySource)
await startRemoteLink(fw)
await initDrive(fw)
runFirmware(fw, { syringeId: "bd-plastipak-50", rateUlPerH: 10000, vtbiUl: 5000, kvoRateUlPerH: 1000, bolusUl: 0, bolusDurationS: 0 }, true)
