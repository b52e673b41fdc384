// Simulator entry point (`npm start`): the pump firmware with the simulator adapter and a
// default infusion: 50 mL BD Plastipak, 10 mL/h, VTBI 5 mL, KVO 1 mL/h.

import * as ds from "@devicescript/core"
import { EventLog } from "./core/eventLog"
import { createPump, createSafetyState, powerOnSelfTest, startControlLoop } from "./control"
import { SAFETY_DEFAULTS, SafetyMonitor } from "./core/safety/monitor"
import { crc16 } from "./core/safety/selfTest"
import { createSimHardware } from "./hal/sim"

const log = new EventLog(256)
log.onRecord = e => console.log("EVENT #" + e.seq + " t=" + e.timeMs + " " + e.kind + " " + e.detail)
const pump = createPump(log)
const hw = createSimHardware()

// Settings persistence is another issue; until then the built-in defaults are checked as a record.
const settingsText = "occl=medium air=100uL"
const selfTestOk = await powerOnSelfTest(hw, pump, log, settingsText, crc16(settingsText))
const safety = createSafetyState(new SafetyMonitor(pump, log, SAFETY_DEFAULTS))

const now = ds.millis()
const loaded = pump.loadProgram(now, {
    syringeId: "bd-plastipak-50",
    rateUlPerH: 10000,
    vtbiUl: 5000,
    kvoRateUlPerH: 1000,
    bolusUl: 0,
    bolusDurationS: 0,
})
if (!loaded.ok) console.log("default program refused: " + loaded.reason)
if (selfTestOk) pump.start(now)
startControlLoop(hw, pump, log, safety)
