// Reusable closed-loop scenarios: the safety tests (coarse sweeps) and `npm run bench:safety`
// (full sweeps) run exactly these, so the benchmark's figures and the tests' assertions come
// from the same code path.

import { OCCLUSION_DEFAULTS, OcclusionLevel } from "../../src/core/safety/occlusion"
import { createPlant, PlantConfig } from "../plant/index"
import { ClosedLoop, programAt } from "./closedLoop"

export interface OcclusionTrial {
    rateUlPerH: number
    level: OcclusionLevel
    seed: number
    /** Plant overrides (compliance, noise, artefacts...). */
    plant?: Partial<PlantConfig>
    /** When to close the line (default: after 30 min or 15 mL, whichever is first). */
    occludeAtMs?: number
    /** Give up waiting for the alarm after this long (default 2 h). */
    maxWaitMs?: number
    /** Disable the trend detector (absolute limit only, like a conventional pump). */
    limitOnly?: boolean
}

export interface OcclusionResult {
    /** Any alarm before the occlusion (false alarm), with its codes. */
    falseAlarm: string
    /** Time from closing the line to OCCL_DOWN (ms), NaN when it never came. */
    timeToAlarmMs: number
    /** Line pressure when the alarm was raised (mmHg, true). */
    pressureAtAlarmMmHg: number
    /** Volume reaching the patient in the 60 s after the line is reopened 30 s after the alarm
     *  (µL, true; negative = backflow into the line). */
    bolusUl: number
    /** The same without the back-off (what the compliance alone would release). */
    storedAtAlarmUl: number
    loop: ClosedLoop
}

export function defaultOcclusionTime(rateUlPerH: number): number {
    const fifteenMl = (15000 / rateUlPerH) * 3600000
    return Math.min(30 * 60000, Math.floor(fifteenMl / 20) * 20)
}

export function runOcclusionTrial(o: OcclusionTrial): OcclusionResult {
    const plant = createPlant({ seed: o.seed, ...(o.plant ?? {}) })
    const loop = new ClosedLoop({
        plant,
        program: programAt(o.rateUlPerH),
        safety: { occlusion: { ...OCCLUSION_DEFAULTS, level: o.level, riseMmHg: o.limitOnly ? 1e9 : OCCLUSION_DEFAULTS.riseMmHg } },
    })
    const occAt = o.occludeAtMs ?? defaultOcclusionTime(o.rateUlPerH)
    const res: OcclusionResult = { falseAlarm: "", timeToAlarmMs: NaN, pressureAtAlarmMmHg: NaN, bolusUl: NaN, storedAtAlarmUl: NaN, loop }
    if (loop.runUntil(occAt, l => l.monitor.alarms.latchedCount() > 0)) {
        res.falseAlarm = loop.monitor.alarms.latchedCodes().join(",")
        return res
    }
    plant.setDownstreamOcclusion(true)
    if (!loop.runFor(o.maxWaitMs ?? 7200000, l => l.alarmLatched("OCCL_DOWN"))) return res
    res.timeToAlarmMs = loop.nowMs - occAt
    const t = plant.truth()
    res.pressureAtAlarmMmHg = t.linePressureMmHg
    res.storedAtAlarmUl = (t.linePressureMmHg - plant.cfg.venousMmHg) * plant.complianceUlPerMmHg
    loop.runFor(30000)
    const before = plant.truth().deliveredUl
    plant.setDownstreamOcclusion(false)
    loop.runFor(60000)
    res.bolusUl = plant.truth().deliveredUl - before
    return res
}

export interface SoakResult {
    hours: number
    alarms: string[]
    deliveredUl: number
    commandedUl: number
}

/** Infusion for `hours` with the plant's realistic noise, artefacts and posture changes; any
 *  alarm other than the syringe running low is a false alarm. The syringe is refilled (position
 *  reset while paused 1 s) every 40 mL, as a nurse would change it. */
export function runSoak(
    rateUlPerH: number,
    hours: number,
    seed: number,
    plant?: Partial<PlantConfig>,
    trace?: (loop: ClosedLoop) => void
): SoakResult {
    const p = createPlant({ seed, ...(plant ?? {}) })
    const loop = new ClosedLoop({ plant: p, program: programAt(rateUlPerH, 45000) })
    const alarms: string[] = []
    const end = hours * 3600000
    let nextSwap = 40000
    while (loop.nowMs < end) {
        loop.runFor(trace ? 2000 : 60000, l => l.monitor.alarms.latchedCount() > 0)
        if (trace) trace(loop)
        if (loop.monitor.alarms.latchedCount() > 0) {
            const codes = loop.monitor.alarms.latchedCodes()
            for (const c of codes) alarms.push(c + "@" + Math.round(loop.nowMs / 1000) + "s")
            break
        }
        if (p.truth().displacedUl > nextSwap) {
            // Syringe change: a fresh full syringe on the same line, pusher back at the full mark.
            loop.pump.pause(loop.nowMs)
            loop.runFor(1000)
            p.resetSyringe()
            loop.runFor(1000)
            loop.pump.stop(loop.nowMs)
            const r = loop.pump.loadProgram(loop.nowMs, programAt(rateUlPerH, 45000))
            if (!r.ok || !loop.pump.start(loop.nowMs).ok) throw new Error("syringe change failed: " + r.reason)
            nextSwap = p.truth().displacedUl + 40000
        }
    }
    return { hours: loop.nowMs / 3600000, alarms, deliveredUl: p.truth().deliveredUl, commandedUl: (loop.forwardSteps * 173531) / 1e6 }
}

