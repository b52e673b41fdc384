// HIL entry (`devs run src/entries/hil.ts --tcp`): the firmware against a rig on the Jacdac bus.
// Default program: 50 mL BD Plastipak, 10 mL/h, VTBI 5 mL, KVO 1 mL/h. The rig runner builds
// per-scenario entries that differ only in this constant (hil-tests/runner).

import { runHil } from "../firmware/hilRun"
import { createDeviceServices } from "../hal/device"
import { createHilRig } from "../hal/hil"

await runHil({ syringeId: "bd-plastipak-50", rateUlPerH: 10000, vtbiUl: 5000, kvoRateUlPerH: 1000, bolusUl: 0, bolusDurationS: 0 }, createHilRig(), createDeviceServices())
