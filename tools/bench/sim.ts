// `--sim`: the real firmware core (PumpController + SafetyMonitor, via the host closed loop in
// hil-tests/host/closedLoop.ts) drives the HIL plant model on a virtual clock at the firmware's
// 20 ms tick. The plant's balance is read through the same MT-SICS text and parser a real
// balance would use, so the pipeline from parse to report is the one used on the bench. Two
// hours of infusion run in about a second.

import { ClosedLoop } from "../../hil-tests/host/closedLoop"
import type { Plant } from "../../hil-tests/plant/api"
import { createPlant } from "../../hil-tests/plant/index"
import { findSyringe } from "../../src/core/syringe"
import { formatMtSics, parseMtSics } from "./protocols"
import { BenchSample } from "./samples"

export interface SimOptions {
    rateMlPerH: number
    durationMin: number
    syringeId: string
    instrument: "balance" | "flowmeter"
    /** How often the instrument is read (virtual ms). */
    readEveryMs: number
    seed: number
    /** After the accuracy run, an occlusion test with a fresh syringe: run `OCCLUSION_WARMUP_MS`,
     *  close the line, wait for the alarm (at most `OCCLUSION_LIMIT_MS`), release, collect. */
    occlusion: boolean
}

export interface SimRun {
    plantName: string
    samples: number
    malformed: number
    alarms: { tMs: number; code: string }[]
}

/** Bench set-up per IEC 60601-2-24: the line ends in a vessel on the balance at atmospheric
 *  pressure, not in a patient, so the plant's venous pressure and its artefacts are off. */
export const BENCH_SETUP = {
    venousMmHg: 0,
    artefactMeanIntervalS: 1e12,
    postureMeanIntervalS: 1e12,
    respirationMmHg: 0,
}

/** The HIL plant's balance weighs 1 mg per µL (its documented water model). */
export const PLANT_BALANCE_DENSITY = 1.0
export const PLANT_NAME = "hil-tests/plant (HIL plant model) + hil-tests/host/closedLoop (core + safety monitor)"

const OCCLUSION_WARMUP_MS = 10 * 60_000
const OCCLUSION_LIMIT_MS = 2 * 3_600_000

export function createBenchPlant(o: Pick<SimOptions, "syringeId" | "seed">): Plant {
    return createPlant({ syringeId: o.syringeId, seed: o.seed, ...BENCH_SETUP })
}

/** Volume a full syringe holds (mL) from the syringe table, to warn before a run that cannot fit. */
export function syringeCapacityMl(syringeId: string): number {
    const s = findSyringe(syringeId)
    if (!s) throw new Error("unknown syringe " + syringeId)
    const r = s.innerDiameterUm / 2000
    return (Math.PI * r * r * s.plungerTravelUm) / 1e6
}

/** Runs the simulated bench test; `emit` receives samples exactly as the recorder stores them;
 *  `progress` is called about once per simulated minute; `observe` at every reading (tests
 *  compare against the plant's ground truth there). */
export async function runSim(
    o: SimOptions,
    emit: (s: BenchSample) => void,
    progress?: (tMs: number) => void,
    observe?: (tMs: number, plant: Plant) => void,
): Promise<SimRun> {
    const rateUl = Math.round(o.rateMlPerH * 1000)
    // VTBI: the whole syringe, so the run ends by time (or by the syringe-empty alarm), never by VTBI.
    const vtbiUl = findSyringe(o.syringeId)!.nominalMl * 1000
    const program = { syringeId: o.syringeId, rateUlPerH: rateUl, vtbiUl, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }
    const alarms: { tMs: number; code: string }[] = []
    let samples = 0
    let malformed = 0
    let massOffsetMg = 0 // the occlusion test weighs into the same vessel with a fresh syringe
    let lastMassMg = 0
    const event = (tMs: number, note: string) => emit({ tMs, kind: "event", value: NaN, tempC: NaN, note })

    const makeLoop = (startMs: number) => {
        const plant = createBenchPlant(o)
        const loop = new ClosedLoop({ plant, program })
        loop.log.onRecord = e => {
            // Every alarm the firmware raises goes into the recording, with its code.
            if (e.kind === "ALARM_ON") {
                const code = e.detail.split(" ")[0]
                alarms.push({ tMs: startMs + e.timeMs, code })
                event(startMs + e.timeMs, "alarm:" + code)
            }
        }
        return { plant, loop }
    }
    const read = (t: number, plant: Plant) => {
        if (observe) observe(t, plant)
        if (o.instrument === "balance") {
            // Through the MT-SICS text a real balance sends, and the real parser.
            const p = parseMtSics(formatMtSics(plant.balanceMg() + massOffsetMg, true))
            if (p.ok === true && p.kind === "mass_mg") {
                emit({ tMs: t, kind: "mass_mg", value: p.value, tempC: NaN, note: "" })
                lastMassMg = p.value
                samples++
            } else malformed++
        } else {
            emit({ tMs: t, kind: "flow_ul_h", value: plant.flowMeterUlPerH(), tempC: NaN, note: "" })
            samples++
        }
    }

    // Accuracy run.
    const endMs = o.durationMin * 60_000
    const { plant, loop } = makeLoop(0)
    let nextRead = 0
    let nextProgress = 0
    while (loop.nowMs <= endMs) {
        if (loop.nowMs >= nextRead) {
            read(loop.nowMs, plant)
            nextRead += o.readEveryMs
        }
        if (progress && loop.nowMs >= nextProgress) {
            progress(loop.nowMs)
            nextProgress += 60_000
            await new Promise(r => setImmediate(r)) // let the progress bar draw
        }
        loop.tick()
    }

    if (o.occlusion) {
        // Occlusion test with a fresh syringe into the same vessel.
        const t0 = endMs + o.readEveryMs
        massOffsetMg = lastMassMg
        const occ = makeLoop(t0)
        const at = (t: number) => t0 + t
        let next = 0
        const runTo = (untilMs: number, stop?: () => boolean) => {
            while (occ.loop.nowMs < untilMs) {
                if (occ.loop.nowMs >= next) {
                    read(at(occ.loop.nowMs), occ.plant)
                    next += o.readEveryMs
                }
                occ.loop.tick()
                if (stop && stop()) return
            }
        }
        runTo(OCCLUSION_WARMUP_MS)
        event(at(occ.loop.nowMs), "occlusion_on")
        occ.plant.setDownstreamOcclusion(true)
        const alarmsBefore = alarms.length
        runTo(OCCLUSION_WARMUP_MS + OCCLUSION_LIMIT_MS, () => alarms.length > alarmsBefore)
        // Release once the alarm has stopped the pump (or the limit passed): the bolus follows.
        runTo(occ.loop.nowMs + 5_000)
        event(at(occ.loop.nowMs), "occlusion_off")
        occ.plant.setDownstreamOcclusion(false)
        runTo(occ.loop.nowMs + 180_000)
    }
    if (progress) progress(endMs)
    return { plantName: PLANT_NAME, samples, malformed, alarms }
}
