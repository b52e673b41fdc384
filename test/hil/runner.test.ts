// HIL runner pieces on the host: scenario schema, firmware line parsing, the evaluator, and the
// proof that the scenarios can fail: with one detector blinded (hil-tests/runner/mutate.ts) the
// matching scenarios fail on the host path, and pass without the mutation.

import { readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runHostScenario } from "../../hil-tests/runner/host"
import { loadScenario, parseScenario } from "../../hil-tests/runner/scenario"
import { parseHilLine } from "../../hil-tests/runner/sim"
import { evaluate, evaluateOne, Trace } from "../../hil-tests/runner/evaluate"

const DIR = "hil-tests/scenarios"
const files = readdirSync(DIR).filter(f => f.endsWith(".json")).map(f => join(DIR, f))

const minimal = {
    name: "x",
    description: "a minimal valid scenario",
    backend: "host",
    durationS: 5,
    program: { syringeId: "bd-plastipak-50", rateUlPerH: 1000, vtbiUl: 1000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 },
    events: [{ atS: 1, do: "key", key: "start" }],
    expect: [{ check: "noAlarm" }],
}

describe("scenario files", () => {
    it("has at least 20 scenarios and every file matches the schema", () => {
        expect(files.length).toBeGreaterThanOrEqual(20)
        for (const f of files) expect(() => loadScenario(f)).not.toThrow()
    })

    it("accepts the minimal scenario", () => {
        expect(parseScenario(JSON.stringify(minimal), "x.json").name).toBe("x")
    })

    it("refuses malformed scenarios with the reason", () => {
        expect(() => parseScenario("{", "x.json")).toThrow(/not valid JSON/)
        expect(() => parseScenario(JSON.stringify({ ...minimal, durationS: undefined }), "x.json")).toThrow(/durationS/)
        expect(() => parseScenario(JSON.stringify({ ...minimal, events: [{ atS: 1, do: "key", key: "explode" }] }), "x.json")).toThrow(/allowed values/)
        expect(() => parseScenario(JSON.stringify({ ...minimal, events: [{ atS: 1, do: "bubble" }] }), "x.json")).toThrow(/volumeUl/)
        expect(() => parseScenario(JSON.stringify({ ...minimal, events: [{ atS: 9, do: "door", open: true }] }), "x.json")).toThrow(/after durationS/)
        expect(() => parseScenario(JSON.stringify(minimal), "y.json")).toThrow(/must equal the file name/)
        expect(() => parseScenario(JSON.stringify({ ...minimal, expect: [{ check: "alarm", code: "X" }] }), "x.json")).toThrow(/afterS/)
    })
})

describe("firmware HIL lines", () => {
    it("parses a coloured simulator line into fields", () => {
        const f = parseHilLine("WASM> \x1b[95mHIL t=5016 state=Alarm alarm=OCCL_DOWN infused=138 bolus=0 fired=799\x1b[0m")
        expect(f).toEqual({ t: "5016", state: "Alarm", alarm: "OCCL_DOWN", infused: "138", bolus: "0", fired: "799" })
    })
    it("keeps a refusal reason with spaces whole", () => {
        expect(parseHilLine("HIL t=1 program=refused reason=rateUlPerH: 1500000 µL/h is outside")).toEqual({ t: "1", program: "refused", reason: "rateUlPerH: 1500000 µL/h is outside" })
    })
    it("ignores other console lines", () => {
        expect(parseHilLine("WASM> EVENT #1 t=5 STATE Idle->Programmed")).toBeNull()
    })
})

describe("evaluator", () => {
    const trace: Trace = {
        program: { ok: true, reason: "" },
        restarts: [],
        samples: [0, 1, 2, 3, 4].map(t => ({ tS: t, state: t < 3 ? "Running" : "Alarm", alarm: t < 3 ? "" : "OCCL_DOWN", infusedUl: 10 * t, bolusUl: 0, deliveredUl: 9 * t, displacedUl: 10 * t, pressureMmHg: 0 })),
    }
    it("measures alarm latency from the cause", () => {
        const r = evaluateOne({ check: "alarm", code: "OCCL_DOWN", afterS: 1, withinS: 2 }, trace, 4)
        expect(r.pass).toBe(true)
        expect(r.figures.latencyS).toBe(2)
        expect(evaluateOne({ check: "alarm", code: "OCCL_DOWN", afterS: 1, withinS: 1.5 }, trace, 4).pass).toBe(false)
        expect(evaluateOne({ check: "alarm", code: "AIR_BUBBLE", afterS: 0, withinS: 9 }, trace, 4).pass).toBe(false)
    })
    it("a run that broke is a failure, whatever the checks would say (REQ-HIL-002)", () => {
        const sc = loadScenario(join(DIR, "door-open.json"))
        const broke = evaluate(sc, { samples: [], program: { ok: true, reason: "" }, restarts: [], error: "firmware process exited (code 1)" }, "sim", 1)
        expect(broke.pass).toBe(false)
        expect(broke.error).toMatch(/exited/)
        // noAlarm alone would pass on an empty trace; the error must still fail the scenario
        const quiet = { ...sc, expect: [{ check: "noAlarm" as const }] }
        expect(evaluate(quiet, { samples: [], program: { ok: true, reason: "" }, restarts: [], error: "timed out" }, "sim", 1).pass).toBe(false)
    })
    it("checks a volume against its tolerance", () => {
        expect(evaluateOne({ check: "volume", source: "delivered", atS: 2, expectedUl: 19, tolerancePct: 5 }, trace, 4).pass).toBe(false) // 18 vs 19 ± 0.95
        expect(evaluateOne({ check: "volume", source: "delivered", atS: 2, expectedUl: 18.5, tolerancePct: 5 }, trace, 4).pass).toBe(true)
    })
})

describe("a blinded detector makes its scenarios fail (host path)", () => {
    const cases: [string, string][] = [
        ["air-single", "air"],
        ["door-open", "door"],
        ["occlusion-down-25mlh", "occlusion"],
        ["motor-stalled", "stall"],
    ]
    for (const [name, mutation] of cases) {
        it(name + " passes, and fails with --mutate " + mutation, async () => {
            const sc = loadScenario(join(DIR, name + ".json"))
            expect((await runHostScenario(sc)).pass).toBe(true)
            const broken = await runHostScenario(sc, mutation)
            expect(broken.pass).toBe(false)
            expect(broken.checks.some(c => c.check.startsWith("alarm") && !c.pass)).toBe(true)
        })
    }
})

describe("alarm edges, alarms again, steps while stopped, dose (REQ-HIL-007, REQ-HIL-008)", () => {
    // Door opens at 1 s (latched to 3 s), acknowledged, opens again at 5 s.
    const lat = [[], ["DOOR_OPEN"], ["DOOR_OPEN"], [], [], ["DOOR_OPEN"], ["DOOR_OPEN"]]
    const mk = (fwd: number[]): Trace => ({
        program: { ok: true, reason: "" },
        restarts: [],
        samples: lat.map((l, t) => ({ tS: t, state: l.length ? "Alarm" : "Running", alarm: l[0] ?? "", infusedUl: 100 * t, bolusUl: 0, deliveredUl: 90 * t, displacedUl: 0, pressureMmHg: 0, latched: l, fwdSteps: fwd[t] })),
    })
    const clean = mk([0, 5, 0, 0, 7, 3, 0])
    it("counts rising edges of a latch, not samples", () => {
        expect(evaluateOne({ check: "alarmCount", code: "DOOR_OPEN", count: 2 }, clean, 6).pass).toBe(true)
        expect(evaluateOne({ check: "alarmCount", code: "DOOR_OPEN", count: 1 }, clean, 6).pass).toBe(false)
        expect(evaluateOne({ check: "alarmCount", code: "DOOR_OPEN", fromS: 2, max: 1 }, clean, 6).figures.count).toBe(1)
    })
    it("alarmRaisedAfter is not satisfied by an alarm still latched from an earlier cause", () => {
        expect(evaluateOne({ check: "alarmRaisedAfter", code: "DOOR_OPEN", afterS: 2, withinS: 1 }, clean, 6).pass).toBe(false) // next edge at 5 s
        expect(evaluateOne({ check: "alarmRaisedAfter", code: "DOOR_OPEN", afterS: 2, withinS: 3 }, clean, 6).pass).toBe(true)
        // The plain `alarm` check IS satisfied by the old latch: why the new check exists.
        expect(evaluateOne({ check: "alarm", code: "DOOR_OPEN", afterS: 2, withinS: 1 }, clean, 6).pass).toBe(true)
    })
    it("counts forward steps only in intervals with a stopping alarm latched at both ends", () => {
        // 5 steps in the interval where the alarm rose (not counted), 3 in the one where it rose again.
        expect(evaluateOne({ check: "noStepsWhileStopped" }, clean, 6).pass).toBe(true)
        const leaky = mk([0, 5, 4, 0, 7, 3, 2])
        const r = evaluateOne({ check: "noStepsWhileStopped" }, leaky, 6)
        expect(r.pass).toBe(false)
        expect(r.figures.steps).toBe(6)
        // A trace without step counts cannot pass the check.
        const blind: Trace = { ...clean, samples: clean.samples.map(s => ({ ...s, fwdSteps: undefined as number | undefined })) }
        expect(evaluateOne({ check: "noStepsWhileStopped" }, blind, 6).pass).toBe(false)
    })
    it("a warning-only alarm does not forbid steps", () => {
        const warn: Trace = { ...clean, samples: clean.samples.map(s => ({ ...s, latched: s.latched!.length ? ["NEAR_EMPTY"] : [], fwdSteps: 9 })) }
        expect(evaluateOne({ check: "noStepsWhileStopped" }, warn, 6).pass).toBe(true)
    })
    it("dose = volume (mL) x concentration", () => {
        // 400 µL at 4 s x 2 mg/mL = 0.8 mg reported; 360 µL delivered = 0.72 mg.
        expect(evaluateOne({ check: "dose", source: "reported", unit: "mg", concentrationPerMl: 2, atS: 4, expected: 0.8, tolerancePct: 0.1 }, clean, 6).pass).toBe(true)
        expect(evaluateOne({ check: "dose", source: "delivered", unit: "mg", concentrationPerMl: 2, atS: 4, expected: 0.8, tolerancePct: 5 }, clean, 6).pass).toBe(false)
    })
})
