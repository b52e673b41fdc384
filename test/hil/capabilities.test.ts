// The runner refuses, before running, any event or check its backend cannot apply (REQ-HIL-006):
// a disturbance that is silently skipped would make the scenario test nothing.

import { describe, expect, it } from "vitest"
import { runBoardScenario } from "../../hil-tests/runner/board"
import { CAPABILITIES, unsupportedFeatures } from "../../hil-tests/runner/capabilities"
import { runHostScenario } from "../../hil-tests/runner/host"
import { parseScenario, Scenario } from "../../hil-tests/runner/scenario"
import { runSimScenario, SimBus } from "../../hil-tests/runner/sim"

function scenario(events: unknown[], expect: unknown[] = [{ check: "noAlarm" }]): Scenario {
    const s = {
        name: "x",
        description: "capability probe",
        backend: "host",
        durationS: 10,
        program: { syringeId: "bd-plastipak-50", rateUlPerH: 1000, vtbiUl: 1000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 },
        events: [{ atS: 1, do: "key", key: "start" }, ...events],
        expect,
    }
    return parseScenario(JSON.stringify(s), "x.json")
}

describe("capability table", () => {
    it("has an entry for every backend the runner can run", () => {
        expect(Object.keys(CAPABILITIES).sort()).toEqual(["board", "host", "sim", "vclock"])
    })

    it("an unknown backend can apply nothing", () => {
        expect(unsupportedFeatures(scenario([]), "teleport")[0]).toMatch(/no entry/)
    })

    it("upstream occlusion is applied by the plant backends and refused on the bench (no actuator)", () => {
        const sc = scenario([{ atS: 2, do: "upstreamOcclusion", closed: true }])
        expect(unsupportedFeatures(sc, "host")).toEqual([])
        expect(unsupportedFeatures(sc, "sim")).toEqual([])
        expect(unsupportedFeatures(sc, "board")).toEqual(["event upstreamOcclusion"])
    })

    it("a heap check is measured on vclock only (the VM heap is read in-process) and refused elsewhere", () => {
        const sc = scenario([], [{ check: "heap", atS: 5, maxUsedBytes: 56000 }])
        expect(unsupportedFeatures(sc, "vclock")).toEqual([])
        for (const b of ["host", "sim", "board"]) expect(unsupportedFeatures(sc, b)).toEqual(["check heap"])
    })
})

describe("refused before running, on each backend", () => {
    it("host: a bus-level silent sensor is refused before the first tick; a power cycle is not (host.ts runs the persistence layer)", async () => {
        const sc = scenario([{ atS: 2, do: "sensorSilent", sensor: "pressure", silent: true }, { atS: 3, do: "power", on: false }])
        await expect(runHostScenario(sc)).rejects.toThrow(/refused before running: backend 'host' cannot apply event sensorSilent:pressure \(/)
    })

    it("sim: refused before the entry is generated or the bus is touched", async () => {
        // A bus that was never started: any use of it would throw a different error.
        // A check no backend knows (as a newer scenario file might carry).
        const fake = { ...scenario([]), expect: [{ check: "madeUp" }] } as unknown as Scenario
        await expect(runSimScenario(new SimBus(), fake, () => undefined)).rejects.toThrow(/refused before running: backend 'sim' cannot apply check madeUp/)
    })

    it("board: refused before any serial port is opened", async () => {
        const sc = scenario([{ atS: 2, do: "sensorFault", sensor: "door", mode: "short" }])
        // A port spec that would fail to open with a different message if it were reached.
        await expect(runBoardScenario(sc, "serial:/nonexistent", "serial:/nonexistent", () => undefined)).rejects.toThrow(
            /refused before running: backend 'board' cannot apply event sensorFault:door:short/,
        )
    })

    it("board: a check it cannot measure (plant displacement) is refused too", () => {
        const sc = scenario([], [{ check: "volume", source: "displaced", expectedUl: 1, tolerancePct: 1 }])
        expect(unsupportedFeatures(sc, "board")).toEqual(["check volume:displaced"])
    })
})
