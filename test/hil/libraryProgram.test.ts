// Scenarios that program through the drug library (REQ-HIL-012), the key accepted/refused check
// (REQ-HIL-013) and power cut and restore on the host backend (REQ-HIL-014). Expected figures come
// from the library entries and the physics, not from the resolver's output.

import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { AMT_MG, parseUnit } from "../../src/core/druglib/doseUnits"
import { unsupportedFeatures } from "../../hil-tests/runner/capabilities"
import { evaluateOne, Trace } from "../../hil-tests/runner/evaluate"
import { runHostScenario } from "../../hil-tests/runner/host"
import { LibrarySelection, resolveLibraryProgram, setupSource, windowInConcUnit } from "../../hil-tests/runner/libraryProgram"
import { loadScenario, parseScenario } from "../../hil-tests/runner/scenario"
import { parseHilLine } from "../../hil-tests/runner/session"
import { entrySource } from "../../hil-tests/runner/sim"

const DIR = join(import.meta.dirname, "../../hil-tests/scenarios")

function esmolol(): LibrarySelection {
    return {
        careArea: "ICU", drug: "Esmolol", doseUnit: "mcg/kg/min", dose: 50, concentration: { amount: 2500, unit: "mg", volumeMl: 250 },
        weightKg: 70, syringeId: "bd-plastipak-50", vtbiMl: 45, loading: { dose: 500, durationS: 60 },
    }
}

describe("drug-library programs resolved by the library code (REQ-HIL-012)", () => {
    it("esmolol 50 mcg/kg/min at 70 kg and 10 mg/mL is 21 mL/h; its 500 mcg/kg loading dose is 3.5 mL over 60 s", () => {
        const r = resolveLibraryProgram(esmolol())
        expect(r.refusal).toBe("")
        // 50 mcg/kg/min x 70 kg = 3.5 mg/min = 210 mg/h; / 10 mg/mL = 21 mL/h.
        expect(r.program!.rateUlPerH).toBe(21000)
        // 500 mcg/kg x 70 kg = 35 mg = 3.5 mL.
        expect(r.setup.loading).toEqual({ ul: 3500, durationS: 60 })
        expect(r.setup.concentration).toEqual({ amountUnit: AMT_MG, amountThousandths: 2500000, volumeUl: 250000 })
        // Sample library ICU esmolol: KVO 0.5 mL/h.
        expect(r.program!.kvoRateUlPerH).toBe(500)
    })

    it("per-m² dose uses Mosteller: 170 cm, 70 kg -> 1.818 m²; 40 mg/m²/h at 50 mg/mL -> 1454 µL/h", () => {
        const r = resolveLibraryProgram({
            library: "hil-tests/fixtures/rig-drug-library.json", careArea: "Oncology", drug: "Fluorouracil", doseUnit: "mg/m2/h", dose: 40,
            concentration: { amount: 2500, unit: "mg", volumeMl: 50 }, weightKg: 70, heightCm: 170, syringeId: "bd-plastipak-50", vtbiMl: 45,
        })
        const bsa = Math.sqrt((170 * 70) / 3600) // 1.8181 m²
        expect(Math.round(bsa * 1000)).toBe(1818)
        expect(r.program!.rateUlPerH).toBe(Math.round(((40 * 1.818) / 50) * 1000))
        expect(r.summary).toContain("BSA 1.818 m², Mosteller")
    })

    it("a soft-limit excursion without confirmation and a hard-limit dose are refusals that name the reason", () => {
        const sel = { ...esmolol(), dose: 250 } // softMax 200, hardMax 300 mcg/kg/min
        expect(resolveLibraryProgram(sel).refusal).toBe("drug library: needs confirmation of dose softMax")
        expect(resolveLibraryProgram({ ...sel, confirm: ["dose"] }).refusal).toBe("")
        expect(resolveLibraryProgram({ ...esmolol(), dose: 301 }).refusal).toMatch(/^drug library: dose 301\.000 mcg\/kg\/min is above the hard maximum 300\.000/)
        expect(resolveLibraryProgram({ ...esmolol(), dose: 301 }).program).toBe(null)
    })

    it("the entry's dose window becomes the pump's limit in the concentration unit, rounded down, never up", () => {
        // Oncology hydromorphone: 20 mg per 240 min.
        const r = resolveLibraryProgram({
            careArea: "Oncology", drug: "Hydromorphone", doseUnit: "mg/h", dose: 2, concentration: { amount: 50, unit: "mg", volumeMl: 50 },
            syringeId: "bd-plastipak-50", vtbiMl: 45, applyDoseWindow: true,
        })
        expect(r.setup.doseLimits).toEqual([{ windowMin: 240, maxThousandths: 20000 }])
        // 400 mcg/kg x 12.349 kg = 4939.6 mcg = 4.9396 mg: 4939 thousandths (the nearest, 4940, would widen it).
        expect(windowInConcUnit(parseUnit("mcg/kg", false), 400000, AMT_MG, 12349, -1)).toBe(4939)
        // 400 mcg/kg x 20 kg = 8 mg exactly.
        expect(windowInConcUnit(parseUnit("mcg/kg", false), 400000, AMT_MG, 20000, -1)).toBe(8000)
    })

    it("a malformed selection is a broken scenario (thrown with the file name), not a refusal to test", () => {
        const bad = JSON.stringify({
            name: "m", description: "a broken library selection", backend: "host", durationS: 5,
            program: { ...esmolol(), doseUnit: "mcg/fortnight" }, events: [], expect: [{ check: "noAlarm" }],
        })
        expect(() => parseScenario(bad, "m.json")).toThrow(/^m\.json: program: doseUnit: unknown unit 'mcg\/fortnight'/)
    })

    it("the bytecode entry gets the library's exact program and the setup calls, in the host's order", () => {
        const sc = loadScenario(join(DIR, "dose-window-pca-hydromorphone.json"))
        expect(setupSource(sc.library!.setup)).toBe(
            "(p: PumpController, t: number) => {\n    let r: CommandResult = { ok: true, reason: \"\" }\n" +
                "    if (r.ok) r = p.setConcentration(t, 2, 50000, 50000)\n    if (r.ok) r = p.setDoseLimit(t, 240, 20000)\n" +
                "    if (r.ok) r = p.setBolusLockout(t, 300000)\n    return r\n}",
        )
        const src = entrySource(sc)
        expect(src).toContain('"rateUlPerH":4000')
        expect(src).toContain("createDeviceServices(), undefined, (p: PumpController, t: number) => {")
        expect(unsupportedFeatures(sc, "vclock")).toEqual([])
        expect(unsupportedFeatures(sc, "board")).toEqual(["program:library", "program:setup", "check key"])
    })
})

describe("key accepted or refused, with the pump's reason (REQ-HIL-013)", () => {
    const trace = (keys: Trace["keys"]): Trace => ({ samples: [], program: { ok: true, reason: "" }, restarts: [], keys })

    it("matches the first press of the key at or after atS, and fails on the wrong answer or reason", () => {
        const t = trace([{ tS: 10, key: "bolus", ok: true, reason: "" }, { tS: 200, key: "bolus", ok: false, reason: "lockout: next bolus allowed in 110 s" }])
        expect(evaluateOne({ check: "key", key: "bolus", atS: 200, accepted: false, reasonContains: "lockout" }, t, 300).pass).toBe(true)
        expect(evaluateOne({ check: "key", key: "bolus", atS: 200, accepted: true }, t, 300).pass).toBe(false)
        expect(evaluateOne({ check: "key", key: "bolus", atS: 200, accepted: false, reasonContains: "dose" }, t, 300).pass).toBe(false)
        expect(evaluateOne({ check: "key", key: "bolus", atS: 10, accepted: true }, t, 300).pass).toBe(true)
        expect(evaluateOne({ check: "key", key: "bolus", atS: 201, accepted: false }, t, 300).measured).toBe("no bolus press seen at or after 201 s")
        expect(evaluateOne({ check: "key", key: "bolus", atS: 10, accepted: true }, trace(undefined), 300).measured).toBe("this backend reports no key results")
    })

    it("reads the firmware's key line (src/firmware/hilRun.ts onKey): the reason runs to the end of the line", () => {
        expect(parseHilLine("HIL t=5120 key=bolus ok=0 reason=lockout: next bolus allowed in 110 s")).toEqual({
            t: "5120", key: "bolus", ok: "0", reason: "lockout: next bolus allowed in 110 s",
        })
        expect(parseHilLine("HIL t=5120 key=start ok=1")).toEqual({ t: "5120", key: "start", ok: "1" })
    })
})

describe("power cut and restore on the host backend (REQ-HIL-014)", () => {
    it("power-restart passes on host: the firmware's persistence restores the pump behind POWER_RESTORED with the saved volume plus the unsaved worst case", async () => {
        const sc = { ...loadScenario(join(DIR, "power-restart.json")), backend: "host" as const }
        const r = await runHostScenario(sc)
        expect(r.checks.map(c => c.check + ": " + c.measured + (c.pass ? "" : " FAIL"))).not.toContainEqual(expect.stringMatching(/FAIL$/))
        // A fresh boot (no restore) would come back Programmed with 0 µL: the check would fail.
        const restart = r.checks.find(c => c.check === "restart")!
        expect(restart.figures.state).toBe("Alarm")
        // 25 mL/h for 39 s (start at 1 s, cut at 40 s) = 270.8 µL. The progress record (every 30 s,
        // REQ-PWR-002) plus the unsaved worst case counted as given, ceil(25 mL/h x 31 s) = 216 µL
        // (REQ-PWR-006), is never below what ran (whole µL: 270) and at most 270.8 + 216 above.
        expect(restart.figures.infusedUl).toBeGreaterThanOrEqual(270)
        expect(restart.figures.infusedUl).toBeLessThanOrEqual(487)
    })
})

describe("the dosing scenarios fail when the feature they test is taken away (host path)", () => {
    const failing = async (name: string, strip: (sc: ReturnType<typeof loadScenario>) => void) => {
        const sc = loadScenario(join(DIR, name + ".json"))
        expect((await runHostScenario(sc)).pass).toBe(true)
        strip(sc)
        const r = await runHostScenario(sc)
        return r.checks.filter(c => !c.pass).map(c => c.check)
    }

    it("dose-window-pca-hydromorphone without the run-time window: the dose passes 20 mg and DOSE_LIMIT never comes", async () => {
        const failed = await failing("dose-window-pca-hydromorphone", sc => (sc.library!.setup.doseLimits = []))
        expect(failed).toContain("alarm DOSE_LIMIT raised")
        expect(failed).toContain("dose reported <= 20 mg")
        expect(failed).toContain("key bolus@2418s")
    })

    it("dose-window-pca-hydromorphone without the lockout: the bolus at 200 s is accepted", async () => {
        const failed = await failing("dose-window-pca-hydromorphone", sc => (sc.library!.setup.bolusLockoutMs = 0))
        expect(failed).toContain("key bolus@200s")
    })

    it("dose-loading-esmolol without the loading dose: no Loading state and 3.5 mL missing", async () => {
        const failed = await failing("dose-loading-esmolol", sc => delete sc.library!.setup.loading)
        expect(failed).toEqual(expect.arrayContaining(["state@30s", "volume reported", "dose reported"]))
    })

    it("standby-delayed-start without standby: never Standby, never starts", async () => {
        const failed = await failing("standby-delayed-start", sc => delete sc.library!.setup.standby)
        expect(failed).toEqual(expect.arrayContaining(["state@10s", "state@21s", "volume reported"]))
    })
})
