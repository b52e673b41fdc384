// Simulator entry point (`npm start`): the pump firmware with the simulator adapter and a
// default infusion: 50 mL BD Plastipak, 10 mL/h, VTBI 5 mL, KVO 1 mL/h.
// With persistence: after a power cut the saved infusion comes back Paused behind a
// POWER_RESTORED alarm and the default program is not loaded over it.

import * as ds from "@devicescript/core"
import { EventLog } from "./core/eventLog"
import { isValidPumpId } from "./core/log/exportLine"
import { createPump, createSafetyState, powerOnSelfTest, startControlLoop } from "./control"
import { SAFETY_DEFAULTS, SafetyMonitor } from "./core/safety/monitor"
import { crc16 } from "./core/safety/selfTest"
import { createSimHardware } from "./hal/sim"
import { readTextSetting } from "./hal/settingsStore"
import { dumpLog, startPersistence } from "./persistence"
import { startRemote } from "./remoteDevice"

const log = new EventLog(256)
log.onRecord = e => console.log("EVENT #" + e.seq + " t=" + e.timeMs + " " + e.kind + " " + e.detail)
const pump = createPump(log)
const hw = createSimHardware()

const configuredId = await readTextSetting("PUMP_ID")
const pumpId = isValidPumpId(configuredId) ? configuredId : "sim-" + ds.deviceIdentifier("self")
const persistence = await startPersistence(pump, log, pumpId)
console.log("PERSIST " + persistence.restoreResult + "; " + persistence.maintenance.text())
await dumpLog(persistence, pumpId)
// No drug-library installer is wired to the remote link yet: library updates over it are refused.
await startRemote(pump, log, persistence, pumpId, null)

// The safety settings are the built-in defaults; the self-test checks them as a record.
const settingsText = "occl=medium air=100uL"
const selfTestOk = await powerOnSelfTest(hw, pump, log, settingsText, crc16(settingsText))
const safety = createSafetyState(new SafetyMonitor(pump, log, SAFETY_DEFAULTS))

// A pump restored after power loss comes up Paused behind an alarm: never load over it.
if (pump.state() === "Idle") {
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
}
startControlLoop(hw, pump, log, safety)
