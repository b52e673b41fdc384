// Measures the cost of one pump control tick inside the DeviceScript VM (run by
// tools/benchCore.ts). The simulator's VM is not the MCU, so the figure is a relative
// budget check: a tick must cost far less than the control period (CONTROL_PERIOD_MS).

import * as ds from "@devicescript/core"
import { EventLog } from "../core/eventLog"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../core/pump"

async function bench(rateUlPerH: number) {
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, new EventLog(32))
    pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: rateUlPerH, vtbiUl: 50000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 })
    pump.start(0)
    let total = 0
    let t = 0
    let emptyYieldMs = 0
    for (let k = 0; k < 20; k++) {
        const e0 = ds.millis()
        await ds.sleep(0)
        emptyYieldMs += ds.millis() - e0
    }
    emptyYieldMs = emptyYieldMs / 20
    // 200 updates of ~500 opcodes stay inside the VM's 131,072-opcode turn (400 panicked).
    const rounds = 80
    const perRound = 200
    for (let r = 0; r < rounds; r++) {
        const t0 = ds.millis()
        for (let i = 0; i < perRound; i++) {
            t += CONTROL_PERIOD_MS
            pump.update(t)
        }
        // ds.millis() is sampled when the fiber resumes, so close the measurement after a yield
        // and subtract an empty yield's cost measured the same way.
        await ds.sleep(0)
        total += ds.millis() - t0 - emptyYieldMs
    }
    const usPerTick = Math.floor((total * 1000) / (rounds * perRound))
    console.log("BENCH vm tick at " + rateUlPerH / 1000 + " mL/h: " + usPerTick + " us per update (yield overhead " + emptyYieldMs + " ms subtracted, " + rounds * perRound + " ticks)")
}

await bench(1000)
await bench(1200000)
ds.restart()
