// `--sim`: the real dosing core (src/core) drives the physical plant model on a virtual clock,
// and the plant's balance (or flow meter) is read through the same text protocol and parser a
// real instrument would use, so the whole pipeline from parse to report is exercised. Two hours
// of infusion run in seconds.

import { existsSync } from "node:fs"
import { EventLog } from "../../src/core/eventLog"
import { PumpController } from "../../src/core/pump"
import { REFERENCE_MECHANICS } from "../../src/core/syringe"
import type { Plant } from "../../hil-tests/plant/api"
import { BENCH_PLANT_DENSITY, createBenchPlant } from "./benchPlant"
import { formatMtSics, parseMtSics } from "./protocols"
import { BenchSample } from "./samples"

export const SIM_TICK_MS = 20
const ACCEL_STEPS_PER_S2 = 20000

export interface SimOptions {
    rateMlPerH: number
    durationMin: number
    syringeId: string
    instrument: "balance" | "flowmeter"
    /** How often the instrument is read (virtual ms). */
    readEveryMs: number
    seed: number
    /** Occlusion test after the accuracy run: close the line, wait for the alarm (or the limit),
     *  release after `occlusionHoldS`. Needs an occlusion detector in the control loop. */
    occlusion: boolean
}

export interface SimRun {
    plantName: string
    samples: number
    malformed: number
}

/** Bench set-up per IEC 60601-2-24: the line ends in a vessel on the balance at atmospheric
 *  pressure, not in a patient, so the HIL plant's venous pressure and its artefacts are off. */
const BENCH_SETUP = {
    venousMmHg: 0,
    artefactMeanIntervalS: 1e12,
    postureMeanIntervalS: 1e12,
    respirationMmHg: 0,
}

/** Loads the HIL plant if it is on this branch, else the bench plant that ships with the tool. */
export async function loadPlant(o: Pick<SimOptions, "syringeId" | "seed">): Promise<{ plant: Plant; name: string; balanceDensityGPerMl: number }> {
    // The module name is not a literal so the type check does not need the HIL plant on the branch.
    for (const name of ["index", "plant"]) {
        const url = new URL(`../../hil-tests/plant/${name}.ts`, import.meta.url)
        if (!existsSync(url)) continue
        const mod: Record<string, unknown> = await import(url.href)
        const create = mod.createPlant as ((cfg: unknown) => Plant) | undefined
        if (typeof create === "function") {
            // The HIL plant's balance weighs 1 mg per µL (its documented water model).
            return { plant: create({ syringeId: o.syringeId, seed: o.seed, ...BENCH_SETUP }), name: `hil-tests/plant/${name}.ts (HIL plant model)`, balanceDensityGPerMl: 1.0 }
        }
    }
    return {
        plant: createBenchPlant({ syringeId: o.syringeId, seed: o.seed }),
        name: "tools/bench/benchPlant (bench plant model)",
        balanceDensityGPerMl: BENCH_PLANT_DENSITY,
    }
}

/** Runs the simulated bench test; `emit` receives samples exactly as the recorder would store
 *  them. `progress` is called about once per simulated minute. */
export async function runSim(
    o: SimOptions,
    emit: (s: BenchSample) => void,
    progress?: (tMs: number) => void,
    /** Called at every instrument reading with the plant (tests compare against its truth). */
    observe?: (tMs: number, plant: Plant) => void,
): Promise<SimRun> {
    const { plant, name } = await loadPlant(o)
    const log = new EventLog(256)
    const pump = new PumpController({ mechanics: REFERENCE_MECHANICS, tickMs: SIM_TICK_MS, accelStepsPerS2: ACCEL_STEPS_PER_S2 }, log)
    const rateUl = Math.round(o.rateMlPerH * 1000)
    const loaded = pump.loadProgram(0, {
        syringeId: o.syringeId,
        rateUlPerH: rateUl,
        vtbiUl: 50000,
        kvoRateUlPerH: 0,
        bolusUl: 0,
        bolusDurationS: 0,
    })
    if (!loaded.ok) throw new Error("simulated pump refused the program: " + loaded.reason)
    let alarmSeen = ""
    log.onRecord = e => {
        if (e.kind === "ALARM") alarmSeen = e.detail.split(" ")[0]
    }
    pump.start(0)
    const endMs = o.durationMin * 60_000
    let samples = 0
    let malformed = 0
    let nextRead = 0
    let nextProgress = 0
    const read = (t: number) => {
        if (observe) observe(t, plant)
        if (o.instrument === "balance") {
            // Through the MT-SICS text the real balance would send, and the real parser.
            const p = parseMtSics(formatMtSics(plant.balanceMg(), true))
            if (p.ok === true && p.kind === "mass_mg") {
                emit({ tMs: t, kind: "mass_mg", value: p.value, tempC: NaN, note: "" })
                samples++
            } else malformed++
        } else {
            emit({ tMs: t, kind: "flow_ul_h", value: plant.flowMeterUlPerH(), tempC: NaN, note: "" })
            samples++
        }
    }
    for (let t = 0; t <= endMs; t += SIM_TICK_MS) {
        if (t >= nextRead) {
            read(t)
            nextRead += o.readEveryMs
        }
        if (progress && t >= nextProgress) {
            progress(t)
            nextProgress += 60_000
            await new Promise(r => setImmediate(r)) // let the progress bar draw
        }
        const out = pump.update(t)
        plant.advance(SIM_TICK_MS, { steps: out.forward ? out.steps : -out.steps, motorEnabled: out.motorEnabled })
    }
    if (o.occlusion) {
        // Occlusion test: the line is closed while running; the alarm must come from the control
        // loop's occlusion detection. Without one, the run records that no alarm came.
        let t = endMs + SIM_TICK_MS
        emit({ tMs: t, kind: "event", value: NaN, tempC: NaN, note: "occlusion_on" })
        plant.setDownstreamOcclusion(true)
        const limit = t + 30 * 60_000
        alarmSeen = ""
        for (; t <= limit && alarmSeen === ""; t += SIM_TICK_MS) {
            if (t >= nextRead) (read(t), (nextRead += o.readEveryMs))
            const out = pump.update(t)
            plant.advance(SIM_TICK_MS, { steps: out.steps, motorEnabled: out.motorEnabled })
        }
        if (alarmSeen !== "") emit({ tMs: t, kind: "event", value: NaN, tempC: NaN, note: "alarm:" + alarmSeen })
        plant.setDownstreamOcclusion(false)
        emit({ tMs: t, kind: "event", value: NaN, tempC: NaN, note: "occlusion_off" })
        for (const stop = t + 120_000; t <= stop; t += SIM_TICK_MS) {
            if (t >= nextRead) (read(t), (nextRead += o.readEveryMs))
            const out = pump.update(t)
            plant.advance(SIM_TICK_MS, { steps: out.steps, motorEnabled: out.motorEnabled })
        }
    }
    if (progress) progress(endMs)
    return { plantName: name, samples, malformed }
}
