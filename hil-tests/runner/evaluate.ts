// Checks a scenario's expectations against a run trace. The same code judges the simulator,
// host and bench backends, so a scenario means the same thing on every path.

import { findAlarm } from "../../src/core/safety/alarmCodes"
import type { Expectation, Scenario } from "./scenario"

/** One observation: what the firmware reported and what the plant (ground truth) did. */
export interface Sample {
    /** Scenario time (s after the firmware was ready with the program loaded). */
    tS: number
    state: string
    /** "" when no alarm is latched. */
    alarm: string
    /** Volume the firmware reports infused (µL, from commanded steps). */
    infusedUl: number
    bolusUl: number
    /** Plant truth (NaN on the bench, where there is no plant: the balance fills deliveredUl). */
    deliveredUl: number
    displacedUl: number
    pressureMmHg: number
    /** Every alarm latched at this sample (the alarm manager's list; the firmware's status line
     *  `latched=`). Absent when the backend cannot see it: `alarm` alone is then used. */
    latched?: string[]
    /** Forward (toward the patient) microsteps commanded since the previous sample; the
     *  occlusion back-off's reverse steps are not counted. Absent when not seen. */
    fwdSteps?: number
    /** Microsteps the plant's motor was driven so far (sim backend; absent elsewhere). */
    motorSteps?: number
}

export interface Trace {
    samples: Sample[]
    program: { ok: boolean; reason: string }
    /** Firmware state and infused volume first reported after each power-on. */
    restarts: { tS: number; state: string; infusedUl: number; infusedBeforeUl: number }[]
    /** Every key press the firmware (or the host loop) applied, with the pump's answer. Absent
     *  when the backend cannot see it. */
    keys?: KeyResult[]
    /** Set when the run itself broke (process died, roles never bound, timeout). */
    error?: string
    /** Front-panel display frames as shown (panel scenarios): scenario time, rows joined by
     *  "\n", inverted (high-priority alarm). */
    screens?: { tS: number; text: string; inverted: boolean }[]
    /** keyUntil events whose text never appeared (the scenario's key script went astray). */
    keyUntilFailures?: string[]
    /** VM heap censuses (vclock): scenario time, live bytes used, largest free block. */
    heap?: { tS: number; usedBytes: number; freeBytes: number; maxFreeBlock: number }[]
}

/** One key press and what the pump answered (CommandResult). */
export interface KeyResult {
    tS: number
    key: string
    ok: boolean
    reason: string
}

export interface CheckResult {
    check: string
    pass: boolean
    /** Measured figure(s), human-readable, e.g. "OCCLUSION after 4.20 s (limit 15 s)". */
    measured: string
    figures: Record<string, number | string>
}

export interface ScenarioResult {
    name: string
    backend: string
    pass: boolean
    wallS: number
    checks: CheckResult[]
    error?: string
    /** Headline figures for the table. */
    summary: Record<string, number | string>
}

function at(samples: Sample[], tS: number): Sample | undefined {
    let best: Sample | undefined
    for (const s of samples) {
        if (s.tS <= tS + 1e-9) best = s
        else break
    }
    return best
}

/** Alarms latched at a sample: the full list where the backend reports it, else the pump's. */
function latchedAt(s: Sample): string[] {
    if (s.latched) return s.latched
    return s.alarm ? [s.alarm] : []
}

/** Times (s) at which `code`'s latch rose: latched at a sample and not at the one before (a
 *  latch present at the first sample counts as raised then). Alarms latch until acknowledged, so
 *  a 100 ms sampling misses an edge only if an acknowledge cleared it within the same 100 ms. */
export function alarmEdges(samples: Sample[], code: string): number[] {
    const out: number[] = []
    let prev = false
    for (const s of samples) {
        const now = latchedAt(s).indexOf(code) >= 0
        if (now && !prev) out.push(s.tS)
        prev = now
    }
    return out
}

function stoppingLatched(s: Sample): boolean {
    const l = latchedAt(s)
    for (const c of l) {
        const d = findAlarm(c)
        // An unknown code is treated as stopping (the monitor latches it as PUMP_ALARM).
        if (!d || d.stopsDelivery) return true
    }
    return false
}

/** Forward microsteps commanded in sample intervals whose both ends show a stopping alarm
 *  latched (the same rule on every backend; a step in the interval where the alarm rises is
 *  not counted, since the sample cannot tell whether it came before the latch). */
export function stepsWhileStopped(samples: Sample[]): { steps: number; firstS: number; seen: boolean } {
    let steps = 0
    let firstS = NaN
    let seen = false
    for (let i = 1; i < samples.length; i++) {
        const s = samples[i]
        if (s.fwdSteps === undefined) continue
        seen = true
        if (s.fwdSteps > 0 && stoppingLatched(samples[i - 1]) && stoppingLatched(s)) {
            steps += s.fwdSteps
            if (isNaN(firstS)) firstS = s.tS
        }
    }
    return { steps: steps, firstS: firstS, seen: seen }
}

function r2(x: number): number {
    return Math.round(x * 100) / 100
}

export function evaluateOne(e: Expectation, trace: Trace, durationS: number): CheckResult {
    const S = trace.samples
    const last = S[S.length - 1]
    switch (e.check) {
        case "alarm": {
            const first = S.find(s => s.tS >= e.afterS && s.alarm === e.code)
            const other = S.find(s => s.alarm !== "" && s.alarm !== e.code)
            if (!first) {
                return {
                    check: "alarm " + e.code,
                    pass: false,
                    measured: "not raised in " + r2(durationS - e.afterS) + " s" + (other ? " (saw " + other.alarm + " at " + r2(other.tS) + " s)" : ""),
                    figures: { latencyS: "none" },
                }
            }
            const latency = first.tS - e.afterS
            const base = at(S, e.afterS)
            const after = base ? first.deliveredUl - base.deliveredUl : NaN
            let pass = latency <= e.withinS
            let extra = ""
            if (e.maxDeliveredAfterUl !== undefined && Number.isFinite(after)) {
                pass = pass && after <= e.maxDeliveredAfterUl
                extra = ", delivered after cause " + r2(after) + " µL (limit " + e.maxDeliveredAfterUl + ")"
            }
            return {
                check: "alarm " + e.code,
                pass,
                measured: "after " + r2(latency) + " s (limit " + e.withinS + " s)" + extra,
                figures: { latencyS: r2(latency), deliveredAfterCauseUl: r2(after) },
            }
        }
        case "stillAfterAlarm": {
            const first = S.find(s => s.alarm === e.code)
            if (!first || !last) return { check: "still after " + e.code, pass: false, measured: e.code + " never raised", figures: { displacedAfterUl: "none" } }
            // The motor must not turn again; the plunger may still creep a little as the drive
            // spring relaxes through the seal friction (plant physics, not delivery by the motor).
            const steps = (last.motorSteps ?? NaN) - (first.motorSteps ?? NaN)
            const moved = last.displacedUl - first.displacedUl
            return {
                check: "still after " + e.code,
                pass: steps === 0 && moved <= e.maxDisplacedUl,
                measured: "motor " + steps + " µsteps, plunger " + r2(moved) + " µL from " + r2(first.tS) + " s to " + r2(last.tS) + " s (limits 0 µsteps, " + e.maxDisplacedUl + " µL)",
                figures: { motorStepsAfter: steps, displacedAfterUl: r2(moved) },
            }
        }
        case "noAlarm": {
            const until = e.untilS ?? durationS
            const a = S.find(s => s.tS <= until && s.alarm !== "")
            return {
                check: "no alarm",
                pass: !a,
                measured: a ? a.alarm + " at " + r2(a.tS) + " s" : "none until " + r2(Math.min(until, last ? last.tS : 0)) + " s",
                figures: { alarm: a ? a.alarm : "" },
            }
        }
        case "volume": {
            const tS = e.atS ?? durationS
            const s = at(S, tS)
            if (!s) return { check: "volume " + e.source, pass: false, measured: "no sample at " + tS + " s", figures: {} }
            const v = e.source === "reported" ? s.infusedUl : e.source === "delivered" ? s.deliveredUl : s.displacedUl
            const tol = Math.max((e.expectedUl * e.tolerancePct) / 100, e.toleranceUl ?? 0)
            const err = v - e.expectedUl
            const pct = e.expectedUl > 0 ? (100 * err) / e.expectedUl : 0
            return {
                check: "volume " + e.source,
                pass: Number.isFinite(v) && Math.abs(err) <= tol,
                measured: r2(v) + " µL at " + r2(s.tS) + " s vs " + e.expectedUl + " µL (" + (pct >= 0 ? "+" : "") + r2(pct) + " %, tol ±" + r2(tol) + " µL)",
                figures: { ul: r2(v), expectedUl: e.expectedUl, errorPct: r2(pct) },
            }
        }
        case "state": {
            const s = at(S, e.atS)
            return {
                check: "state@" + e.atS + "s",
                pass: !!s && s.state === e.state,
                measured: (s ? s.state : "no sample") + " (want " + e.state + ")",
                figures: { state: s ? s.state : "" },
            }
        }
        case "bolusMax": {
            const a = at(S, e.fromS)
            const b = at(S, e.fromS + e.windowS)
            const v = a && b ? b.deliveredUl - a.deliveredUl : NaN
            return {
                check: "bolus after release",
                pass: Number.isFinite(v) && v <= e.ul,
                measured: r2(v) + " µL in " + e.windowS + " s (limit " + e.ul + " µL)",
                figures: { bolusUl: r2(v) },
            }
        }
        case "programRefused": {
            const ok = !trace.program.ok && (!e.reasonContains || trace.program.reason.indexOf(e.reasonContains) >= 0)
            const delivered = last ? last.deliveredUl : 0
            return {
                check: "program refused",
                pass: ok && !(delivered > 0.5),
                measured: (trace.program.ok ? "accepted" : "refused: " + trace.program.reason) + ", delivered " + r2(delivered) + " µL",
                figures: { refused: trace.program.ok ? 0 : 1 },
            }
        }
        case "alarmRaisedAfter": {
            const edge = alarmEdges(S, e.code).find(t => t >= e.afterS - 1e-9)
            if (edge === undefined) {
                const held = at(S, e.afterS)
                const still = held && latchedAt(held).indexOf(e.code) >= 0
                return {
                    check: "alarm " + e.code + " raised",
                    pass: false,
                    measured: "not raised after " + e.afterS + " s" + (still ? " (still latched from before: that does not count)" : ""),
                    figures: { latencyS: "none" },
                }
            }
            const latency = edge - e.afterS
            return {
                check: "alarm " + e.code + " raised",
                pass: latency <= e.withinS,
                measured: "raised " + r2(latency) + " s after " + e.afterS + " s (limit " + e.withinS + " s)",
                figures: { latencyS: r2(latency) },
            }
        }
        case "alarmCount": {
            const from = e.fromS ?? 0
            const until = e.untilS ?? durationS
            const n = alarmEdges(S, e.code).filter(t => t >= from - 1e-9 && t <= until + 1e-9).length
            const min = e.count ?? e.min ?? 0
            const max = e.count ?? e.max ?? Infinity
            const want = e.count !== undefined ? "= " + e.count : (e.min !== undefined ? ">= " + e.min : "") + (e.max !== undefined ? " <= " + e.max : "")
            return {
                check: "alarm " + e.code + " count",
                pass: n >= min && n <= max,
                measured: n + " raised in " + from + ".." + until + " s (want " + want.trim() + ")",
                figures: { count: n },
            }
        }
        case "noStepsWhileStopped": {
            const r = stepsWhileStopped(S)
            const max = e.max ?? 0
            return {
                check: "no steps in stop alarm",
                pass: r.seen && r.steps <= max,
                measured: r.seen ? r.steps + " forward microsteps while a stopping alarm was latched" + (r.steps > 0 ? " (first at " + r2(r.firstS) + " s)" : "") + " (limit " + max + ")" : "no step counts in the trace",
                figures: { steps: r.steps },
            }
        }
        case "dose": {
            const tS = e.atS ?? durationS
            const s = at(S, tS)
            if (!s) return { check: "dose " + e.source, pass: false, measured: "no sample at " + tS + " s", figures: {} }
            const ul = e.source === "reported" ? s.infusedUl : s.deliveredUl
            // Dose = volume (mL) x concentration (amount per mL).
            const dose = (ul / 1000) * e.concentrationPerMl
            const tol = (Math.abs(e.expected) * e.tolerancePct) / 100
            return {
                check: "dose " + e.source,
                pass: Number.isFinite(dose) && Math.abs(dose - e.expected) <= tol,
                measured: r2(dose * 1000) / 1000 + " " + e.unit + " at " + r2(s.tS) + " s (" + r2(ul) + " µL x " + e.concentrationPerMl + " " + e.unit + "/mL) vs " + e.expected + " " + e.unit + " (tol ±" + r2(tol * 1000) / 1000 + ")",
                figures: { dose: r2(dose * 1000) / 1000, expected: e.expected, unit: e.unit },
            }
        }
        case "key": {
            const k = (trace.keys ?? []).find(x => x.key === e.key && x.tS >= e.atS - 0.05)
            if (!k) return { check: "key " + e.key + "@" + e.atS + "s", pass: false, measured: trace.keys ? "no " + e.key + " press seen at or after " + e.atS + " s" : "this backend reports no key results", figures: {} }
            const reasonOk = e.reasonContains === undefined || k.reason.indexOf(e.reasonContains) >= 0
            return {
                check: "key " + e.key + "@" + e.atS + "s",
                pass: k.ok === e.accepted && reasonOk,
                measured: (k.ok ? "accepted" : "refused: " + k.reason) + " at " + r2(k.tS) + " s (want " + (e.accepted ? "accepted" : "refused") + (e.reasonContains ? " with '" + e.reasonContains + "'" : "") + ")",
                figures: { accepted: k.ok ? 1 : 0, reason: k.reason },
            }
        }
        case "noStepsBefore": {
            const before = S.filter(s => s.tS <= e.untilS + 1e-9)
            const counted = before.filter(s => s.fwdSteps !== undefined)
            const steps = counted.reduce((a, s) => a + (s.fwdSteps ?? 0), 0)
            const lastBefore = before[before.length - 1]
            const motor = lastBefore && lastBefore.motorSteps !== undefined ? lastBefore.motorSteps : 0
            return {
                check: "no steps before " + e.untilS + "s",
                pass: counted.length > 0 && steps === 0 && motor === 0,
                measured: counted.length > 0 ? steps + " forward microsteps commanded, " + motor + " fired, up to " + r2(lastBefore.tS) + " s" : "no step counts in the trace",
                figures: { steps: steps, motorSteps: motor },
            }
        }
        case "doseNeverAbove": {
            const until = e.untilS ?? durationS
            let peak = 0
            let peakS = 0
            for (const s of S) {
                if (s.tS > until + 1e-9) break
                const ul = e.source === "reported" ? s.infusedUl : s.deliveredUl
                const dose = (ul / 1000) * e.concentrationPerMl
                if (dose > peak) {
                    peak = dose
                    peakS = s.tS
                }
            }
            return {
                check: "dose " + e.source + " <= " + e.max + " " + e.unit,
                pass: S.length > 0 && peak <= e.max,
                measured: "peak " + r2(peak * 1000) / 1000 + " " + e.unit + " at " + r2(peakS) + " s (limit " + e.max + " " + e.unit + ")",
                figures: { peak: r2(peak * 1000) / 1000, max: e.max },
            }
        }
        case "heap": {
            const h = (trace.heap ?? []).find(x => x.tS >= e.atS - 1e-9)
            if (!h) return { check: "heap", pass: false, measured: "no heap census at or after " + e.atS + " s", figures: {} }
            const minBlock = e.minFreeBlockBytes ?? 0
            return {
                check: "heap",
                pass: h.usedBytes <= e.maxUsedBytes && h.maxFreeBlock >= minBlock,
                measured: h.usedBytes + " B used at " + r2(h.tS) + " s (budget " + e.maxUsedBytes + "), largest free block " + h.maxFreeBlock + " B" + (e.minFreeBlockBytes !== undefined ? " (need " + minBlock + ")" : ""),
                figures: { usedBytes: h.usedBytes, maxFreeBlock: h.maxFreeBlock },
            }
        }
        case "screen":
        case "screenNever": {
            const from = e.fromS ?? 0
            const until = e.untilS ?? durationS
            const inWindow = (trace.screens ?? []).filter(f => f.tS >= from - 1e-9 && f.tS <= until + 1e-9)
            const hit = inWindow.find(f => f.text.indexOf(e.contains) >= 0 && (e.check === "screenNever" || e.inverted === undefined || f.inverted === e.inverted))
            const name = (e.check === "screen" ? "screen shows '" : "screen never shows '") + e.contains + "'" + (e.check === "screen" && e.inverted !== undefined ? (e.inverted ? " inverted" : " not inverted") : "")
            if (!trace.screens) return { check: name, pass: false, measured: "this backend reports no display frames", figures: {} }
            const pass = e.check === "screen" ? hit !== undefined : hit === undefined
            return {
                check: name,
                pass,
                measured: hit ? "shown at " + r2(hit.tS) + " s" + (hit.inverted ? " (inverted)" : "") : "not in any of " + inWindow.length + " frames in [" + from + ", " + r2(until) + "] s",
                figures: { frames: inWindow.length, atS: hit ? r2(hit.tS) : "" },
            }
        }
        case "bolusGiven": {
            const peak = S.reduce((m, s) => Math.max(m, s.bolusUl), 0)
            const errPct = ((peak - e.expectedUl) / e.expectedUl) * 100
            return {
                check: "bolus " + e.expectedUl + " µL",
                pass: Math.abs(errPct) <= e.tolerancePct,
                measured: r2(peak) + " µL reported (" + (errPct >= 0 ? "+" : "") + r2(errPct) + " %)",
                figures: { bolusUl: r2(peak) },
            }
        }
        case "flow": {
            const run = S.find(s => s.state === "Running")
            const name = "flow " + e.expectedUlPerH / 1000 + " mL/h ±" + e.tolerancePct + "%"
            if (!run) return { check: name, pass: false, measured: "the pump never reported Running", figures: {} }
            const t0 = run.tS + (e.afterRunningS ?? 10)
            const a = at(S, t0)
            const b = at(S, t0 + e.forS)
            if (!a || !b || b.tS - a.tS < e.forS * 0.9) return { check: name, pass: false, measured: "the run ended before " + r2(t0 + e.forS) + " s", figures: {} }
            const flow = ((b.deliveredUl - a.deliveredUl) / (b.tS - a.tS)) * 3600
            const errPct = e.expectedUlPerH > 0 ? ((flow - e.expectedUlPerH) / e.expectedUlPerH) * 100 : NaN
            return {
                check: name,
                pass: Math.abs(errPct) <= e.tolerancePct,
                measured: r2(flow / 1000) + " mL/h delivered over " + r2(a.tS) + "-" + r2(b.tS) + " s (" + (errPct >= 0 ? "+" : "") + r2(errPct) + " %)",
                figures: { flowUlPerH: r2(flow), errPct: r2(errPct) },
            }
        }
        case "restart": {
            const r = trace.restarts[trace.restarts.length - 1]
            if (!r) return { check: "restart", pass: false, measured: "no power-on seen", figures: {} }
            let pass = r.state === e.state
            let m = "state " + r.state + " (want " + e.state + ")"
            if (e.infusedKeptUl !== undefined) {
                const lost = r.infusedBeforeUl - r.infusedUl
                pass = pass && Math.abs(lost) <= e.infusedKeptUl
                m += ", infused " + r2(r.infusedBeforeUl) + " -> " + r2(r.infusedUl) + " µL (±" + e.infusedKeptUl + ")"
            }
            return { check: "restart", pass, measured: m, figures: { state: r.state, infusedUl: r.infusedUl } }
        }
    }
}

export function evaluate(sc: Scenario, trace: Trace, backend: string, wallS: number): ScenarioResult {
    const checks = trace.error ? [] : sc.expect.map(e => evaluateOne(e, trace, sc.durationS))
    // A key script that went astray (a keyUntil text never shown) fails the scenario whatever
    // the later checks say: they would be judging a different program.
    for (const f of trace.keyUntilFailures ?? []) checks.push({ check: "keyUntil", pass: false, measured: f, figures: {} })
    const last = trace.samples[trace.samples.length - 1]
    return {
        name: sc.name,
        backend,
        pass: !trace.error && checks.every(c => c.pass),
        wallS: r2(wallS),
        checks,
        error: trace.error,
        summary: last
            ? {
                  simS: r2(last.tS),
                  state: last.state,
                  alarm: last.alarm,
                  infusedUl: r2(last.infusedUl),
                  deliveredUl: r2(last.deliveredUl),
                  // Every alarm code seen during the run, in order of first appearance.
                  alarms: [...new Set(trace.samples.filter(x => x.alarm !== "").map(x => x.alarm))].join(",") || "none",
              }
            : {},
    }
}
