// In-VM dosing test (`npm run test:vm`): the loading-dose phase, the display rounding rule, the
// dose given and Mosteller BSA give the same integers in the DeviceScript VM as on Node (the VM
// formats numbers and rounds halves differently, so only integer results are compared).

import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { EventLog } from "../core/eventLog"
import { PumpController, REFERENCE_PUMP_CONFIG } from "../core/pump"
import { AMT_MG, parseUnit } from "../core/druglib/doseUnits"
import { checkBsa, mostellerThousandthsM2 } from "../core/druglib/bsa"
import { copyRequest, doseToRateUlPerH, emptyRequest } from "../core/druglib/dosing"
import { formatThousandths } from "../core/units"

describe("dosing under the DeviceScript VM", () => {
    test("copyRequest (Object.assign in the VM) copies every field into a separate request", () => {
        const r = emptyRequest()
        r.careArea = "ICU"
        r.drug = "Dopamine"
        r.dose = 5000
        r.weightG = 70000
        r.heightMm = 1700
        r.confirmed = ["dose"]
        const c = copyRequest(r)
        c.dose = 6000
        expect(r.dose).toBe(5000)
        expect(c.dose).toBe(6000)
        expect(c.careArea).toBe("ICU")
        expect(c.drug).toBe("Dopamine")
        expect(c.weightG).toBe(70000)
        expect(c.heightMm).toBe(1700)
        expect(c.bolusDose).toBe(-1)
        expect(c.loadingDurationS).toBe(-1)
        expect(c.confirmed[0]).toBe("dose")
    })

    test("loading dose 2 mL over 60 s: 11525 steps (floor(2e9/173531)) in Loading, then Running at 10 mL/h", async () => {
        const log = new EventLog(64)
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
        expect(pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: 10000, vtbiUl: 10000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }).ok).toBe(true)
        expect(pump.setLoadingDose(0, 2000, 60).ok).toBe(true)
        expect(pump.setConcentration(0, AMT_MG, 50000, 50000).ok).toBe(true)
        expect(pump.start(0).ok).toBe(true)
        expect(pump.state()).toBe("Loading")
        let t = 0
        let doneAt = -1
        while (t <= 62000) {
            pump.update(t)
            if (doneAt < 0 && pump.state() === "Running") doneAt = t
            t += 20
            if (t % 1000 === 0) await ds.sleep(0)
        }
        expect(doneAt >= 59980 && doneAt <= 60040).toBe(true)
        const s = pump.status()
        expect(s.loadingGivenUl).toBe(1999)
        // 11525 steps + 2 s at 10 mL/h (5.56 µL = 32 steps, within one step of the ramp).
        expect(pump.stepsCommanded() >= 11525 + 31 && pump.stepsCommanded() <= 11525 + 33).toBe(true)
        expect(s.rateUlPerH).toBe(10000)
        expect(log.ofKind("LOADING_DONE").length).toBe(1)
    })

    test("display rounding: a completed 1000 µL program (999.886 µL) shows 1000; 1 mg/mL shows 1.000 mg", async () => {
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, new EventLog(32))
        pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: 100000, vtbiUl: 1000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 })
        pump.setConcentration(0, AMT_MG, 50000, 50000)
        pump.start(0)
        let t = 0
        while (t <= 40000) {
            pump.update(t)
            t += 20
            if (t % 1000 === 0) await ds.sleep(0)
        }
        const s = pump.status()
        expect(s.state).toBe("Complete")
        expect(s.infusedNl).toBe(999885)
        expect(s.infusedUl).toBe(999)
        expect(s.infusedDisplayUl).toBe(1000)
        expect(s.doseGivenThousandths).toBe(1000)
        expect(formatThousandths(s.doseGivenThousandths)).toBe("1.000")
    })

    test("Mosteller BSA: 170 cm/70 kg -> 1818, 100 cm/16 kg -> 667, exact half 35964009 -> 1000", () => {
        expect(mostellerThousandthsM2(1700, 70000)).toBe(1818)
        expect(mostellerThousandthsM2(1000, 16000)).toBe(667)
        expect(mostellerThousandthsM2(500, 3500)).toBe(220)
        expect(mostellerThousandthsM2(35964009, 1)).toBe(1000)
        expect(mostellerThousandthsM2(35964008, 1)).toBe(999)
        expect(checkBsa(2500, 300000).bsaThousandthsM2).toBe(-1)
        expect(checkBsa(299, 70000).reasons[0]).toBe("height 299 mm is outside 300..2500 mm")
    })

    test("per-m² rate: 41.667 mg/m²/h x 1.818 m² at 50 mg/mL = 1515 µL/h; no BSA -> refused", () => {
        const unit = parseUnit("mg/m2/h", true)
        const conc = { amount: 2500000, volumeUl: 50000 }
        expect(doseToRateUlPerH(unit, 41667, -1, AMT_MG, conc, 1818).value).toBe(1515)
        expect(doseToRateUlPerH(unit, 41667, -1, AMT_MG, conc).value).toBe(-1)
    })
})
