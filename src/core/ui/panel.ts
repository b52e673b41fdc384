// Front-panel model: (UI state, key or tick, pump/panel status) -> (new UI state, screen, at most
// one command to the pump, events to log). Pure: no clock (time arrives with each input), no I/O,
// so every screen flow is a vitest timeline and the same file runs on the device.
//
// Dose checks are the drug library's (druglib/dosing.ts): this file only collects the values the
// clinician confirms and shows the verdict. Nothing reaches the pump before the final START on
// the review screen, so an abandoned program never leaves a half-programmed pump.
//
// Use-error defences (ISMP smart-pump guidance; docs/front-panel.md):
//  - numbers: leading zero, no trailing zero, a unit on every number (format.ts);
//  - drug names shown exactly as the library spells them (Tall Man lettering lives there);
//  - auto-repeat accelerates (x10 after REPEAT_FAST_AFTER repeats) but stops at every soft and
//    hard limit: going past a soft limit needs a fresh press, past a hard limit is impossible;
//  - an unfinished program times out back to the screen it started from (PROGRAM_TIMEOUT_MS);
//  - a key pressed within VIEW_GUARD_MS of the screen changing is ignored (it was meant for a
//    screen the clinician no longer sees), so no value changes by a press the screen did not show.

import { isPerKg } from "../druglib/doseUnits"
import {
    BASIC_INFUSION, basicEntry, checkBolus, checkTitration, copyRequest, doseToRateUlPerH, DoseResult, DoseRequest,
    emptyRequest, findArea, findEntry, programDose, SoftExcursion,
} from "../druglib/dosing"
import { CareArea, DrugEntry, DrugLibrary, Limits, NONE } from "../druglib/model"
import { EventSink } from "../eventLog"
import { EventKind } from "../eventKinds"
import { InfusionProgram, MAX_RATE_UL_PER_H, MIN_RATE_UL_PER_H } from "../program"
import { PumpStatus } from "../pump"
import { findAlarm } from "../safety/alarmCodes"
import { SYRINGES } from "../syringe"
import { AMT_ML } from "../druglib/doseUnits"
import { batteryText, concText, doseText, durationText, fit, formatDose, rateText, volumeText, weightText, wrap } from "./format"

export const SCREEN_COLS = 21
export const SCREEN_ROWS = 8
/** Hold time before a held UP/DOWN starts repeating, and the repeat period. */
export const REPEAT_DELAY_MS = 600
export const REPEAT_PERIOD_MS = 200
/** Repeats at single steps before the step grows tenfold. */
export const REPEAT_FAST_AFTER = 8
/** An unfinished program (or titration, bolus) is discarded after this long without a key. */
export const PROGRAM_TIMEOUT_MS = 120000
/** A key within this long of the screen changing is ignored (it was aimed at the old screen). */
export const VIEW_GUARD_MS = 300
/** Keypad unlock sequence, shown on the locked screen. */
export const UNLOCK_SEQUENCE = ["up", "down", "up"]

export type UiKey = "start" | "stop" | "up" | "down" | "ack"
export const UI_KEYS: UiKey[] = ["start", "stop", "up", "down", "ack"]

export interface UiInput {
    /** "press" / "release" of `key`, or "tick" (time passes, status may have changed). */
    kind: string
    key: UiKey
    nowMs: number
}

/** What the panel shows about the pump; the firmware fills it from the pump, the safety monitor
 *  and the sensors before every step. */
export interface PanelStatus {
    pump: PumpStatus
    selfTestOk: boolean
    batteryMv: number
    pressureMmHg: number
    /** Occlusion alarm pressure in mmHg (the bar's full scale). */
    pressureLimitMmHg: number
    plungerEngaged: boolean
    /** Top alarm from the alarm manager; code "" when none is latched. */
    alarmCode: string
    alarmPriority: string
    audioPaused: boolean
    library: DrugLibrary
    /** Recent log records, newest first, as one line each. */
    history: string[]
}

export interface UiCommand {
    /** "start" (load `program` and start), "startLoaded", "resume", "pause", "stop", "clear",
     *  "titrate" (rateUlPerH), "bolus" (bolusUl over bolusDurationS), "ack" (acknowledge + 2 min
     *  audio pause). */
    op: string
    program: InfusionProgram
    rateUlPerH: number
    bolusUl: number
    bolusDurationS: number
}

export interface Screen {
    lines: string[]
    /** High-priority alarm: the whole display inverted. */
    inverted: boolean
}

export interface UiLogRecord {
    kind: EventKind
    detail: string
}

/** Value editor: one number in its own unit with its limits. */
export interface Editor {
    /** "weight", "dose", "vtbi", "titrate", "bolus". */
    field: string
    value: number
    /** Step rule: "dose" (decade steps on thousandths), "weight" (g), "volume" (µL). */
    rule: string
    limits: Limits
    absMin: number
    absMax: number
    unit: number
    /** Set when auto-repeat stopped at a limit: a fresh press is needed to go on. */
    blocked: boolean
}

export interface UiState {
    screen: string
    /** Screen a program / titration / bolus started from; the timeout returns there. */
    origin: string
    sel: number
    page: number
    req: DoseRequest
    entry: DrugEntry
    /** The request of the infusion the pump is running (titration, bolus); null when none. */
    active: DoseRequest
    activeEntry: DrugEntry
    editor: Editor
    /** Pending verdict on the soft-limit or refused screen, and what it was for. */
    verdict: DoseResult
    verdictFor: string
    /** Soft excursions the clinician confirmed for the check in progress. */
    confirmed: string[]
    message: string
    held: string
    heldSinceMs: number
    lastRepeatMs: number
    repeats: number
    lastKeyMs: number
    locked: boolean
    unlockStep: number
    viewId: string
    viewSinceMs: number
}

export interface UiOutput {
    state: UiState
    screen: Screen
    command: UiCommand
    log: UiLogRecord[]
}

export function initialUiState(): UiState {
    return {
        screen: "home", origin: "home", sel: 0, page: 0, req: null, entry: null, active: null, activeEntry: null, editor: null,
        verdict: null, verdictFor: "", confirmed: [], message: "", held: "", heldSinceMs: 0, lastRepeatMs: 0, repeats: 0, lastKeyMs: 0,
        locked: false, unlockStep: 0, viewId: "", viewSinceMs: 0,
    }
}

function copyState(s: UiState): UiState {
    return {
        screen: s.screen, origin: s.origin, sel: s.sel, page: s.page, req: s.req, entry: s.entry, active: s.active,
        activeEntry: s.activeEntry, editor: s.editor ? copyEditor(s.editor) : null, verdict: s.verdict, verdictFor: s.verdictFor, confirmed: s.confirmed,
        message: s.message, held: s.held, heldSinceMs: s.heldSinceMs, lastRepeatMs: s.lastRepeatMs, repeats: s.repeats,
        lastKeyMs: s.lastKeyMs, locked: s.locked, unlockStep: s.unlockStep, viewId: s.viewId, viewSinceMs: s.viewSinceMs,
    }
}

function copyEditor(e: Editor): Editor {
    return { field: e.field, value: e.value, rule: e.rule, limits: e.limits, absMin: e.absMin, absMax: e.absMax, unit: e.unit, blocked: e.blocked }
}

/** Collects the dose checker's log records so the model stays pure; the firmware writes them. */
class Collector implements EventSink {
    records: UiLogRecord[] = []
    record(timeMs: number, kind: EventKind, detail: string) {
        this.records.push({ kind: kind, detail: detail })
    }
}

interface Ctx {
    s: UiState
    st: PanelStatus
    now: number
    cmd: UiCommand
    log: Collector
}

function command(op: string): UiCommand {
    return { op: op, program: null, rateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }
}

const PROGRAMMING = ["syringe", "area", "drug", "conc", "weight", "dose", "vtbi", "review", "soft", "refused", "titrate", "bolus", "history"]

function isProgramming(screen: string): boolean {
    return PROGRAMMING.indexOf(screen) >= 0
}

/** Screens shown while the pump holds a program; the rest need an Idle pump. */
function hasProgram(st: PanelStatus): boolean {
    const p = st.pump.state
    return p !== "Idle" && p !== "OutOfService"
}

// ---- the step ---------------------------------------------------------------------------

export function uiStep(prev: UiState, input: UiInput, st: PanelStatus): UiOutput {
    const c: Ctx = { s: copyState(prev), st: st, now: input.nowMs, cmd: null, log: new Collector() }
    const s = c.s
    follow(c)
    if (input.kind === "tick") tick(c)
    else if (input.kind === "release") {
        if (s.held === input.key) s.held = ""
    } else if (input.kind === "press") press(c, input.key)
    const screen = render(c)
    const id = viewIdOf(c)
    if (id !== s.viewId) {
        s.viewId = id
        s.viewSinceMs = c.now
    }
    return { state: s, screen: screen, command: c.cmd, log: c.log.records }
}

/** Keeps the screen consistent with the pump: a program appears or disappears under the panel
 *  (remote command, power restore, clear). */
function follow(c: Ctx) {
    const s = c.s
    if (c.st.pump.state === "OutOfService") {
        s.screen = "oos"
        return
    }
    if (s.screen === "oos") s.screen = "home"
    if (hasProgram(c.st)) {
        if (s.screen === "home") enter(c, "run")
    } else if (s.screen === "run" || s.screen === "titrate" || s.screen === "bolus" || ((s.screen === "soft" || s.screen === "refused") && s.verdictFor !== "program")) {
        s.active = null
        s.activeEntry = null
        enter(c, "home")
    }
}

function enter(c: Ctx, screen: string) {
    c.s.screen = screen
    c.s.sel = 0
    c.s.page = 0
}

function tick(c: Ctx) {
    const s = c.s
    if (isProgramming(s.screen) && c.now - s.lastKeyMs >= PROGRAM_TIMEOUT_MS) {
        if (s.screen !== "history") c.log.record(c.now, "UI_TIMEOUT", "unfinished " + s.screen + " discarded after " + PROGRAM_TIMEOUT_MS / 1000 + " s without a key; back to " + s.origin)
        s.req = null
        s.entry = null
        s.editor = null
        s.verdict = null
        s.message = ""
        enter(c, s.origin)
        return
    }
    if (s.editor && (s.held === "up" || s.held === "down") && !s.editor.blocked && !s.locked) {
        if (c.now - s.heldSinceMs >= REPEAT_DELAY_MS && c.now - s.lastRepeatMs >= REPEAT_PERIOD_MS) {
            s.lastRepeatMs = c.now
            s.repeats++
            nudge(s.editor, s.held === "up" ? 1 : -1, s.repeats > REPEAT_FAST_AFTER ? 10 : 1, true, s)
        }
    }
}

function press(c: Ctx, key: UiKey) {
    const s = c.s
    const guarded = c.now - s.viewSinceMs < VIEW_GUARD_MS
    s.lastKeyMs = c.now
    if (key === "ack") {
        if (c.st.alarmCode.length > 0) c.cmd = command("ack")
        return
    }
    // STOP on the running screen (or its alarm overlay, or locked) stops delivery at once. On a
    // screen opened from it (titration, bolus, history) STOP first cancels back to it, so that
    // backing out of a titration never interrupts a vasoactive infusion; a second STOP pauses.
    const onRun = s.screen === "run" || s.locked || alarmOverlay(c.st)
    if (key === "stop" && isDeliveringState(c.st.pump.state) && onRun) {
        c.cmd = command("pause")
        return
    }
    if (s.locked) {
        if (key === UNLOCK_SEQUENCE[s.unlockStep]) {
            s.unlockStep++
            if (s.unlockStep >= UNLOCK_SEQUENCE.length) {
                s.locked = false
                s.unlockStep = 0
                c.log.record(c.now, "UI_UNLOCK", "keypad unlocked")
            }
        } else s.unlockStep = key === UNLOCK_SEQUENCE[0] ? 1 : 0
        return
    }
    if (guarded) return
    if (alarmOverlay(c.st)) return
    s.held = key
    s.heldSinceMs = c.now
    s.lastRepeatMs = c.now
    s.repeats = 0
    s.message = ""
    if (s.editor) s.editor.blocked = false
    const scr = s.screen
    if (scr === "home") homeKey(c, key)
    else if (scr === "run") runKey(c, key)
    else if (scr === "syringe") syringeKey(c, key)
    else if (scr === "area") areaKey(c, key)
    else if (scr === "drug") drugKey(c, key)
    else if (scr === "conc") concKey(c, key)
    else if (scr === "weight" || scr === "dose" || scr === "vtbi" || scr === "titrate" || scr === "bolus") editorKey(c, key)
    else if (scr === "review") reviewKey(c, key)
    else if (scr === "soft") softKey(c, key)
    else if (scr === "refused") refusedKey(c, key)
    else if (scr === "history") historyKey(c, key)
}

function isDeliveringState(p: string): boolean {
    return p === "Running" || p === "Bolus" || p === "KVO"
}

/** The overlay takes the keys until the alarm is acknowledged (audio paused) or gone. */
function alarmOverlay(st: PanelStatus): boolean {
    return st.alarmCode.length > 0 && !st.audioPaused
}

function cycle(c: Ctx, key: UiKey, n: number) {
    if (n <= 0) return
    if (key === "up") c.s.sel = (c.s.sel + n - 1) % n
    else if (key === "down") c.s.sel = (c.s.sel + 1) % n
}

// ---- home -------------------------------------------------------------------------------

function homeItems(): string[] {
    return ["New infusion", "Event history", "Lock keys"]
}

function homeKey(c: Ctx, key: UiKey) {
    const items = homeItems()
    if (key !== "start") return cycle(c, key, items.length)
    const it = items[c.s.sel]
    if (it === "New infusion") {
        if (!c.st.library) {
            c.s.message = "No drug library"
            return
        }
        c.s.origin = "home"
        c.s.req = emptyRequest()
        c.s.entry = null
        enter(c, "syringe")
    } else if (it === "Event history") {
        c.s.origin = "home"
        enter(c, "history")
    } else lock(c)
}

function lock(c: Ctx) {
    c.s.locked = true
    c.s.unlockStep = 0
    c.log.record(c.now, "UI_LOCK", "keypad locked")
}

// ---- programming: syringe, area, drug, concentration ------------------------------------

function syringeKey(c: Ctx, key: UiKey) {
    if (key === "stop") return cancel(c)
    if (key !== "start") return cycle(c, key, SYRINGES.length)
    if (!c.st.plungerEngaged) {
        c.s.message = "Plunger not engaged"
        return
    }
    c.s.req.syringeId = SYRINGES[c.s.sel].id
    enter(c, "area")
}

function areaKey(c: Ctx, key: UiKey) {
    const lib = c.st.library
    if (key === "stop") return enter(c, "syringe")
    if (!lib) return cancel(c)
    if (key !== "start") return cycle(c, key, lib.careAreas.length)
    c.s.req.careArea = lib.careAreas[c.s.sel].name
    enter(c, "drug")
}

/** The area's drugs, then the basic mL/h infusion when the library gives the area flow limits
 *  for it (a hard maximum; without one the library does not allow basic mode). */
function drugNames(area: CareArea): string[] {
    const out: string[] = []
    for (let i = 0; i < area.drugs.length; i++) out.push(area.drugs[i])
    if (area.basicRateUlPerH && area.basicRateUlPerH.hardMax !== NONE) out.push(BASIC_INFUSION)
    return out
}

function drugKey(c: Ctx, key: UiKey) {
    const area = findArea(c.st.library, c.s.req.careArea)
    if (key === "stop") return enter(c, "area")
    if (!area) return cancel(c)
    const names = drugNames(area)
    if (key !== "start") return cycle(c, key, names.length)
    const name = names[c.s.sel]
    const e = name === BASIC_INFUSION ? basicEntry(area) : findEntry(c.st.library, area, name)
    if (!e) {
        c.s.message = "Entry unreadable"
        return
    }
    c.s.entry = e
    c.s.req.drug = name
    c.s.req.doseUnit = e.doseUnit
    c.s.req.concUnit = e.concUnit
    c.s.req.concentration = null
    c.s.req.weightG = NONE
    c.s.req.confirmed = []
    if (name === BASIC_INFUSION) c.log.record(c.now, "UI_BASIC_MODE", "area=" + area.name + ": basic mL/h infusion selected (no drug limits, area flow limits only)")
    if (flowOnly(e)) return openDose(c)
    enter(c, "conc")
}

function flowOnly(e: DrugEntry): boolean {
    return (e.doseUnit & 0x0f) === AMT_ML
}

function concKey(c: Ctx, key: UiKey) {
    const e = c.s.entry
    if (key === "stop") return enter(c, "drug")
    if (key !== "start") return cycle(c, key, e.concentrations.length)
    if (e.concentrations.length === 0) {
        c.s.message = "No concentration"
        return
    }
    c.s.req.concentration = e.concentrations[c.s.sel]
    if (isPerKg(e.doseUnit)) return openWeight(c)
    openDose(c)
}

// ---- editors ----------------------------------------------------------------------------

function limitsOf(hardMin: number, softMin: number, softMax: number, hardMax: number): Limits {
    return { hardMin: hardMin, softMin: softMin, softMax: softMax, hardMax: hardMax }
}

function firstSet(a: number, b: number, c: number): number {
    if (a !== NONE) return a
    if (b !== NONE) return b
    return c
}

function openWeight(c: Ctx) {
    const e = c.s.entry
    // No default weight: the field starts blank ("--- kg") and the first press shows a value.
    c.s.editor = { field: "weight", value: NONE, rule: "weight", limits: e.weightG, absMin: 100, absMax: 500000, unit: -1, blocked: false }
    enter(c, "weight")
}

function openDose(c: Ctx) {
    const e = c.s.entry
    const start = firstSet(e.defaultDose, e.dose.softMin, firstSet(e.dose.hardMin, 1000, 1000))
    const flow = flowOnly(e)
    c.s.editor = {
        field: flow ? "rate" : "dose", value: start, rule: "dose", limits: e.dose,
        absMin: flow ? MIN_RATE_UL_PER_H : 10, absMax: flow ? MAX_RATE_UL_PER_H : 100000000, unit: e.doseUnit, blocked: false,
    }
    enter(c, "dose")
}

function openVtbi(c: Ctx) {
    const cap = syringeCapacityUl(c.s.req.syringeId)
    c.s.editor = { field: "vtbi", value: cap, rule: "volume", limits: limitsOf(NONE, NONE, NONE, NONE), absMin: 100, absMax: cap, unit: -1, blocked: false }
    enter(c, "vtbi")
}

function syringeCapacityUl(id: string): number {
    for (let i = 0; i < SYRINGES.length; i++) if (SYRINGES[i].id === id) return SYRINGES[i].nominalMl * 1000
    return 0
}

/** Step size at `v` going up (dir 1) or down (-1): decades for doses, so 0.01 steps below 1,
 *  0.1 below 10, 1 below 100 and 10 above (never a trailing-zero-looking jump). */
function stepAt(rule: string, v: number, dir: number): number {
    const x = dir > 0 ? v : v - 1
    if (rule === "weight") return x < 20000 ? 100 : 1000
    if (rule === "volume") return x < 10000 ? 100 : 1000
    if (x < 1000) return 10
    if (x < 10000) return 100
    if (x < 100000) return 1000
    return 10000
}

function hardMinOf(e: Editor): number {
    return e.limits.hardMin !== NONE && e.limits.hardMin > e.absMin ? e.limits.hardMin : e.absMin
}

function hardMaxOf(e: Editor): number {
    return e.limits.hardMax !== NONE && e.limits.hardMax < e.absMax ? e.limits.hardMax : e.absMax
}

/** Moves the editor value. Auto-repeat (`repeating`) stops AT every soft limit it would cross
 *  and waits for a fresh press; nothing ever goes past a hard limit (the reason is shown). */
function nudge(e: Editor, dir: number, mult: number, repeating: boolean, s: UiState) {
    const lo = hardMinOf(e)
    const hi = hardMaxOf(e)
    if (e.value === NONE) {
        // First press on a blank field shows a value; it does not step past one.
        e.value = firstSet(e.limits.softMin, e.limits.hardMin, e.absMin)
        if (e.value < lo) e.value = lo
        return
    }
    let next = e.value + dir * stepAt(e.rule, e.value, dir) * mult
    if (repeating) {
        const stops = [e.limits.softMin, e.limits.softMax]
        for (let i = 0; i < stops.length; i++) {
            const b = stops[i]
            if (b === NONE) continue
            if (dir > 0 && b > e.value && b < next) {
                next = b
                e.blocked = true
            }
            if (dir < 0 && b < e.value && b > next) {
                next = b
                e.blocked = true
            }
        }
    }
    if (next > hi) {
        next = hi
        e.blocked = true
        if (e.value === hi) s.message = "HARD LIMIT: max\n" + valueText(e, hi)
    }
    if (next < lo) {
        next = lo
        e.blocked = true
        if (e.value === lo) s.message = "HARD LIMIT: min\n" + valueText(e, lo)
    }
    if (e.blocked && s.message.length === 0) s.message = "Limit: release key"
    e.value = next
}

function valueText(e: Editor, v: number): string {
    if (v === NONE) return e.rule === "weight" ? "--- kg" : "---"
    if (e.rule === "weight") return weightText(v)
    if (e.rule === "volume") return volumeText(v)
    return doseText(v, e.unit)
}

function editorKey(c: Ctx, key: UiKey) {
    const s = c.s
    const e = s.editor
    if (key === "up" || key === "down") return nudge(e, key === "up" ? 1 : -1, 1, false, s)
    if (key === "stop") return editorBack(c)
    if (key !== "start") return
    if (e.value === NONE) {
        s.message = "Enter a value"
        return
    }
    const scr = s.screen
    if (scr === "weight") {
        s.req.weightG = e.value
        openDose(c)
    } else if (scr === "dose") {
        s.req.dose = e.value
        openVtbi(c)
    } else if (scr === "vtbi") {
        s.req.vtbiUl = e.value
        s.editor = null
        enter(c, "review")
    } else if (scr === "titrate") {
        s.verdictFor = "titrate"
        s.confirmed = []
        recheck(c)
    } else if (scr === "bolus") {
        s.verdictFor = "bolus"
        s.confirmed = []
        recheck(c)
    }
}

function editorBack(c: Ctx) {
    const s = c.s
    const scr = s.screen
    if (scr === "titrate" || scr === "bolus") {
        s.editor = null
        return enter(c, "run")
    }
    if (scr === "weight") return enter(c, "conc")
    if (scr === "dose") {
        if (flowOnly(s.entry)) return enter(c, "drug")
        if (isPerKg(s.entry.doseUnit)) return openWeightKeeping(c)
        return enter(c, "conc")
    }
    if (scr === "vtbi") return openDose(c)
}

function openWeightKeeping(c: Ctx) {
    openWeight(c)
    c.s.editor.value = c.s.req.weightG
}

function bolusDurationS(e: DrugEntry): number {
    const b = e.bolus
    return firstSet(b.defaultDurationS, b.durationS.softMin, firstSet(b.durationS.hardMin, 60, 60))
}

// ---- review, verdicts -------------------------------------------------------------------

function reviewLines(c: Ctx): string[] {
    const r = c.s.req
    const e = c.s.entry
    const out: string[] = []
    out.push("Area " + r.careArea)
    out.push(e.drug === BASIC_INFUSION ? "Basic infusion" : r.drug)
    if (r.concentration) out.push("Conc " + concText(r.concentration, e.concUnit))
    if (r.weightG !== NONE) out.push("Weight " + weightText(r.weightG))
    if (!flowOnly(e)) out.push("Dose " + doseText(r.dose, e.doseUnit))
    const rate = computedRate(r, e)
    out.push("Rate " + (rate >= 0 ? rateText(rate) : "--"))
    out.push("VTBI " + volumeText(r.vtbiUl))
    out.push(syringeName(r.syringeId))
    return out
}

const REVIEW_PAGE = 5

function reviewKey(c: Ctx, key: UiKey) {
    const s = c.s
    const pages = Math.ceil(reviewLines(c).length / REVIEW_PAGE)
    if (key === "up") s.page = s.page > 0 ? s.page - 1 : 0
    else if (key === "down") s.page = s.page < pages - 1 ? s.page + 1 : s.page
    else if (key === "stop") openVtbiKeeping(c)
    else if (key === "start") {
        // Every value must have been on screen: START on an earlier page shows the next one.
        if (s.page < pages - 1) {
            s.page++
            return
        }
        s.verdictFor = "program"
        s.confirmed = []
        recheck(c)
    }
}

function openVtbiKeeping(c: Ctx) {
    openVtbi(c)
    c.s.editor.value = c.s.req.vtbiUl
}

/** Acts on the dose checker's verdict for the program, a titration or a bolus. */
function judge(c: Ctx, v: DoseResult) {
    const s = c.s
    s.verdict = v
    if (v.status === "refused") return enter(c, "refused")
    if (v.status === "confirm") {
        const x = firstUnconfirmed(v, s.confirmed)
        c.log.record(c.now, "UI_SOFT_LIMIT", s.verdictFor + ": " + x.field + " " + x.value + " beyond " + x.bound + " " + x.limit + " (" + x.unit + ", thousandths) shown for confirmation")
        return enter(c, "soft")
    }
    if (s.verdictFor === "program") {
        const cmd = command("start")
        cmd.program = v.program
        c.cmd = cmd
        s.active = copyRequest(s.req)
        s.activeEntry = s.entry
        s.req = null
        s.editor = null
        s.verdict = null
        s.origin = "home"
        enter(c, "run")
    } else if (s.verdictFor === "titrate") {
        const cmd = command("titrate")
        cmd.rateUlPerH = v.program.rateUlPerH
        c.cmd = cmd
        s.active.dose = s.editor.value
        s.active.confirmed = carried(s, false)
        s.editor = null
        s.verdict = null
        enter(c, "run")
    } else {
        const cmd = command("bolus")
        cmd.bolusUl = v.program.bolusUl
        cmd.bolusDurationS = v.program.bolusDurationS
        c.cmd = cmd
        s.editor = null
        s.verdict = null
        enter(c, "run")
    }
}

/** Runs the library check for what is being confirmed, with the excursions confirmed so far. */
function recheck(c: Ctx) {
    const s = c.s
    const lib = c.st.library
    if (s.verdictFor === "program") {
        s.req.confirmed = s.confirmed
        judge(c, programDose(lib, s.req, c.log, c.now))
    } else if (s.verdictFor === "titrate") judge(c, checkTitration(lib, s.active, s.editor.value, carried(s, false), c.log, c.now))
    else judge(c, checkBolus(lib, s.active, s.editor.value, bolusDurationS(s.activeEntry), carried(s, true), c.log, c.now))
}

/** Excursions confirmed when the infusion was programmed stay confirmed (the weight, the
 *  concentration; the dose too for a bolus), plus those confirmed now. A new dose is new. */
function carried(s: UiState, keepDose: boolean): string[] {
    const out: string[] = []
    const before = s.active.confirmed
    for (let i = 0; i < before.length; i++) if (keepDose || before[i] !== "dose") out.push(before[i])
    for (let i = 0; i < s.confirmed.length; i++) out.push(s.confirmed[i])
    return out
}

function firstUnconfirmed(v: DoseResult, confirmed: string[]): SoftExcursion {
    for (let i = 0; i < v.soft.length; i++) if (confirmed.indexOf(v.soft[i].field) < 0) return v.soft[i]
    return v.soft[0]
}

function softKey(c: Ctx, key: UiKey) {
    const s = c.s
    if (key === "start") {
        // The clinician confirms exactly the excursion on screen; the checker logs it.
        const x = firstUnconfirmed(s.verdict, s.confirmed)
        const list: string[] = []
        for (let i = 0; i < s.confirmed.length; i++) list.push(s.confirmed[i])
        list.push(x.field)
        s.confirmed = list
        recheck(c)
    } else if (key === "stop") backToValue(c)
}

function refusedKey(c: Ctx, key: UiKey) {
    if (key === "stop" || key === "start") backToValue(c)
}

/** From a verdict back to the value that caused it (the dose, or the titration/bolus value). */
function backToValue(c: Ctx) {
    const s = c.s
    s.verdict = null
    if (s.verdictFor === "program") {
        s.confirmed = []
        openDose(c)
        s.editor.value = s.req.dose
    } else enter(c, s.verdictFor)
}

// ---- running ----------------------------------------------------------------------------

function runItems(c: Ctx): string[] {
    const p = c.st.pump.state
    const out: string[] = []
    if (p === "Running" || p === "Bolus" || p === "KVO") {
        if (c.s.active) out.push("Titrate")
        if (c.s.activeEntry && c.s.activeEntry.bolus && p === "Running") out.push("Bolus")
        out.push("Pause")
    } else if (p === "Paused") {
        out.push("Resume")
        if (c.s.active) out.push("Titrate")
        out.push("End infusion")
    } else if (p === "Programmed") {
        out.push("Start")
        out.push("Clear")
    } else if (p === "Complete") out.push("Clear")
    out.push("Event history")
    out.push("Lock keys")
    return out
}

function runKey(c: Ctx, key: UiKey) {
    const s = c.s
    const items = runItems(c)
    if (s.sel >= items.length) s.sel = 0
    if (key === "stop") {
        if (c.st.pump.state === "Paused") c.cmd = command("stop")
        return
    }
    if (key !== "start") return cycle(c, key, items.length)
    const it = items[s.sel]
    s.origin = "run"
    s.confirmed = []
    if (it === "Titrate") {
        const e = s.activeEntry
        s.editor = {
            field: "titrate", value: s.active.dose, rule: "dose", limits: e.dose, absMin: flowOnly(e) ? MIN_RATE_UL_PER_H : 10,
            absMax: flowOnly(e) ? MAX_RATE_UL_PER_H : 100000000, unit: e.doseUnit, blocked: false,
        }
        enter(c, "titrate")
    } else if (it === "Bolus") {
        const b = s.activeEntry.bolus
        s.editor = {
            field: "bolus", value: firstSet(b.defaultDose, b.dose.softMin, firstSet(b.dose.hardMin, 1000, 1000)), rule: "dose", limits: b.dose,
            absMin: 10, absMax: 100000000, unit: b.unit, blocked: false,
        }
        enter(c, "bolus")
    } else if (it === "Pause") c.cmd = command("pause")
    else if (it === "Resume") c.cmd = command("resume")
    else if (it === "End infusion") c.cmd = command("stop")
    else if (it === "Start") c.cmd = command("startLoaded")
    else if (it === "Clear") c.cmd = command("clear")
    else if (it === "Event history") enter(c, "history")
    else if (it === "Lock keys") lock(c)
}

function historyKey(c: Ctx, key: UiKey) {
    const n = c.st.history.length
    if (key === "up") c.s.page = c.s.page > 0 ? c.s.page - 1 : 0
    else if (key === "down") c.s.page = c.s.page + 1 < n ? c.s.page + 1 : c.s.page
    else if (key === "stop" || key === "start") enter(c, c.s.origin)
}

function cancel(c: Ctx) {
    const s = c.s
    s.req = null
    s.entry = null
    s.editor = null
    enter(c, s.origin)
}

// ---- rendering --------------------------------------------------------------------------

function computedRate(r: DoseRequest, e: DrugEntry): number {
    if (flowOnly(e)) return r.dose
    if (!r.concentration || (isPerKg(e.doseUnit) && !(r.weightG > 0))) return -1
    return doseToRateUlPerH(e.doseUnit, r.dose, r.weightG, e.concUnit, r.concentration).value
}

function syringeName(id: string): string {
    for (let i = 0; i < SYRINGES.length; i++) if (SYRINGES[i].id === id) return SYRINGES[i].brand + " " + SYRINGES[i].nominalMl + " mL"
    return "Syringe ?"
}

function viewIdOf(c: Ctx): string {
    const s = c.s
    // Review pages are separate views (START on page 1 must not also start the infusion).
    return s.screen + (s.screen === "review" ? s.page : "") + "/" + (alarmOverlay(c.st) ? c.st.alarmCode : "") + "/" + (s.locked ? "L" : "")
}

function stateLabel(p: string): string {
    if (p === "Programmed") return "READY TO START"
    if (p === "Running") return "RUNNING"
    if (p === "Paused") return "PAUSED"
    if (p === "Bolus") return "BOLUS"
    if (p === "KVO") return "KVO"
    if (p === "Complete") return "VTBI COMPLETE"
    if (p === "Alarm") return "ALARM: STOPPED"
    return p.toUpperCase()
}

function header(title: string, st: PanelStatus): string {
    const bat = batteryText(st.batteryMv)
    return fit(title, SCREEN_COLS - bat.length - 1) + " " + bat
}

function render(c: Ctx): Screen {
    const s = c.s
    const st = c.st
    let lines: string[] = []
    let inverted = false
    if (alarmOverlay(st)) {
        const def = findAlarm(st.alarmCode)
        const pr = def ? def.priority : st.alarmPriority
        lines.push(pr.toUpperCase() + " PRIORITY ALARM")
        const text = wrap(def ? def.text : st.alarmCode, SCREEN_COLS)
        for (let i = 0; i < text.length && i < 5; i++) lines.push(text[i])
        while (lines.length < 6) lines.push("")
        lines.push(stateLabel(st.pump.state))
        lines.push("ACK: silence 2 min")
        inverted = pr === "high"
    } else {
        lines = body(c)
        if (st.alarmCode.length > 0) lines[0] = fit("!" + st.alarmCode, SCREEN_COLS - 10) + " audio off"
        if (s.locked) lines[SCREEN_ROWS - 1] = "LOCKED: UP DOWN UP"
        else if (s.message.length > 0) {
            // The message ends on the row above the key help; a long one takes the row above too.
            const parts = ("! " + s.message).split("\n")
            let m: string[] = []
            for (let i = 0; i < parts.length; i++) {
                const w = wrap(parts[i], SCREEN_COLS)
                for (let j = 0; j < w.length; j++) m.push(w[j])
            }
            for (let i = 0; i < m.length && i < 2; i++) lines[SCREEN_ROWS - 1 - m.length + i] = m[i]
        }
    }
    const out: string[] = []
    for (let i = 0; i < SCREEN_ROWS; i++) out.push(fit(i < lines.length ? lines[i] : "", SCREEN_COLS))
    return { lines: out, inverted: inverted }
}

function pad(lines: string[], n: number): string[] {
    while (lines.length < n) lines.push("")
    return lines
}

function listLines(items: string[], sel: number, rows: number): string[] {
    const out: string[] = []
    const first = sel >= rows ? sel - rows + 1 : 0
    for (let i = first; i < items.length && out.length < rows; i++) out.push((i === sel ? "> " : "  ") + items[i])
    return out
}

function body(c: Ctx): string[] {
    const s = c.s
    const st = c.st
    const scr = s.screen
    const L: string[] = []
    if (scr === "oos") {
        L.push("OUT OF SERVICE")
        L.push(st.selfTestOk ? "See event log" : "Self-test failed")
        L.push("Do not use.")
        L.push("Call biomedical")
        L.push("engineering.")
        return pad(L, SCREEN_ROWS)
    }
    if (scr === "home") {
        L.push(header("PUMP READY", st))
        L.push("Self-test: " + (st.selfTestOk ? "passed" : "FAILED"))
        if (st.library) {
            L.push("Lib: " + st.library.name)
            L.push("Library v" + st.library.version)
        } else {
            L.push("No drug library")
            L.push("")
        }
        L.push("")
        pad(L, 5)
        const items = homeItems()
        L.push("> " + items[s.sel])
        L.push("UP/DOWN, START: go")
        return pad(L, SCREEN_ROWS)
    }
    if (scr === "syringe") {
        L.push(header("SYRINGE", st))
        const sp = SYRINGES[s.sel]
        L.push("> " + sp.brand)
        L.push("  " + sp.nominalMl + " mL")
        L.push("Plunger: " + (st.plungerEngaged ? "engaged" : "NOT ENGAGED"))
        L.push("")
        L.push("")
        L.push("START: confirm")
        L.push("STOP: cancel")
        return L
    }
    if (scr === "area" || scr === "drug" || scr === "conc") {
        let items: string[] = []
        let title = ""
        if (scr === "area") {
            title = "CARE AREA"
            for (let i = 0; i < st.library.careAreas.length; i++) items.push(st.library.careAreas[i].name)
        } else if (scr === "drug") {
            title = "DRUG (" + s.req.careArea + ")"
            items = drugNames(findArea(st.library, s.req.careArea))
        } else {
            title = "CONCENTRATION"
            for (let i = 0; i < s.entry.concentrations.length; i++) items.push(concText(s.entry.concentrations[i], s.entry.concUnit))
        }
        L.push(header(title, st))
        const rows = listLines(items, s.sel, 5)
        for (let i = 0; i < rows.length; i++) L.push(rows[i])
        pad(L, 6)
        if (scr === "conc") L.push(s.entry.drug)
        else L.push("")
        L.push("START: select")
        return L
    }
    if (s.editor && (scr === "weight" || scr === "dose" || scr === "vtbi" || scr === "titrate" || scr === "bolus")) {
        const e = s.editor
        let title = "VTBI"
        if (scr === "weight") title = "PATIENT WEIGHT"
        else if (scr === "dose") title = flowOnly(s.entry) ? "RATE" : "DOSE"
        else if (scr === "titrate") title = "NEW DOSE"
        else if (scr === "bolus") title = "BOLUS DOSE"
        L.push(header(title, st))
        const entry = scr === "titrate" || scr === "bolus" ? s.activeEntry : s.entry
        L.push(scr === "weight" || scr === "vtbi" ? syringeOrDrug(c) : entry.drug)
        L.push("  " + valueText(e, e.value))
        if (scr === "dose" && !flowOnly(s.entry)) {
            const rate = computedRate(withDose(s.req, e.value), s.entry)
            L.push("= " + (rate >= 0 ? rateText(rate) : "--"))
        } else if (scr === "titrate" && !flowOnly(s.activeEntry)) {
            const rate = computedRate(withDose(s.active, e.value), s.activeEntry)
            L.push("= " + (rate >= 0 ? rateText(rate) : "--"))
        } else if (scr === "bolus") L.push("over " + bolusDurationS(s.activeEntry) + " s")
        else L.push("")
        const range = rangeLines(e)
        L.push(range[0])
        L.push(range[1])
        L.push("UP/DOWN: change")
        L.push("START: ok  STOP: back")
        return L
    }
    if (scr === "review") {
        const all = reviewLines(c)
        const pages = Math.ceil(all.length / REVIEW_PAGE)
        L.push(header("REVIEW", st))
        for (let i = s.page * REVIEW_PAGE; i < all.length && i < (s.page + 1) * REVIEW_PAGE; i++) L.push(all[i])
        pad(L, 6)
        L.push(s.page < pages - 1 ? "DOWN: more values" : "")
        L.push(s.page < pages - 1 ? "START: next" : "START: start infusion")
        return L
    }
    if (scr === "soft") {
        const x = firstUnconfirmed(s.verdict, s.confirmed)
        L.push("SOFT LIMIT")
        L.push(cap(x.field) + " " + excursionValue(x))
        L.push(x.bound === "softMax" ? "is ABOVE soft max" : "is BELOW soft min")
        L.push(excursionLimit(x))
        L.push("Confirm this value?")
        L.push("")
        L.push("START: confirm")
        L.push("STOP: change value")
        return L
    }
    if (scr === "refused") {
        L.push("NOT ALLOWED")
        const reasons = s.verdict ? wrap(tidyNumbers(s.verdict.reasons.join("; ")), SCREEN_COLS) : []
        for (let i = 0; i < reasons.length && i < 6; i++) L.push(reasons[i])
        pad(L, 7)
        L.push("STOP: change value")
        return L
    }
    if (scr === "history") {
        L.push("EVENT HISTORY")
        for (let i = s.page; i < st.history.length && L.length < 7; i++) L.push(st.history[i])
        if (st.history.length === 0) L.push("(no events)")
        pad(L, 7)
        L.push("STOP: back")
        return L
    }
    return runLines(c)
}

/** The checker's reasons print thousandths with three decimals ("30.000 mg"); on screen a
 *  trailing zero is a misreading risk (ISMP), so "30.000" shows as "30" and "0.500" as "0.5". */
export function tidyNumbers(text: string): string {
    let out = ""
    let i = 0
    while (i < text.length) {
        const ch = text.charCodeAt(i)
        if (ch >= 48 && ch <= 57) {
            let j = i
            while (j < text.length && isDigit(text.charCodeAt(j))) j++
            if (j + 1 < text.length && text.charAt(j) === "." && isDigit(text.charCodeAt(j + 1))) {
                let k = j + 1
                while (k < text.length && isDigit(text.charCodeAt(k))) k++
                let frac = text.slice(j + 1, k)
                while (frac.length > 0 && frac.charAt(frac.length - 1) === "0") frac = frac.slice(0, frac.length - 1)
                out += text.slice(i, j) + (frac.length > 0 ? "." + frac : "")
                i = k
            } else {
                out += text.slice(i, j)
                i = j
            }
        } else {
            out += text.charAt(i)
            i++
        }
    }
    return out
}

function isDigit(c: number): boolean {
    return c >= 48 && c <= 57
}

function withDose(r: DoseRequest, dose: number): DoseRequest {
    const x = copyRequest(r)
    x.dose = dose
    return x
}

function cap(s: string): string {
    return s.length > 0 ? s.charAt(0).toUpperCase() + s.slice(1) : s
}

function unitOfExcursion(x: SoftExcursion): string {
    return x.unit === "g" ? "kg" : x.unit
}

function excursionNumber(x: SoftExcursion, v: number): string {
    // Weights are in g, durations in s, everything else in thousandths of the unit.
    if (x.unit === "g") return formatDose(v) + " kg"
    if (x.unit === "s") return v + " s"
    return formatDose(v) + " " + unitOfExcursion(x)
}

function excursionValue(x: SoftExcursion): string {
    return excursionNumber(x, x.value)
}

function excursionLimit(x: SoftExcursion): string {
    return "(limit " + excursionNumber(x, x.limit) + ")"
}

function syringeOrDrug(c: Ctx): string {
    return c.s.entry ? c.s.entry.drug : ""
}

/** The usual (soft) range, else the hard one, each bound with its unit. */
function rangeLines(e: Editor): string[] {
    const lo = e.limits.softMin !== NONE ? e.limits.softMin : e.limits.hardMin
    const hi = e.limits.softMax !== NONE ? e.limits.softMax : e.limits.hardMax
    const out: string[] = []
    out.push(lo !== NONE ? "Low  " + valueText(e, lo) : "")
    if (hi !== NONE) out.push("High " + valueText(e, hi))
    else out.push(e.rule === "volume" ? "Max  " + valueText(e, e.absMax) : "")
    return out
}

function runLines(c: Ctx): string[] {
    const s = c.s
    const st = c.st
    const p = st.pump
    const L: string[] = []
    L.push(header(stateLabel(p.state), st))
    const prog = p.program
    const a = s.active
    const e = s.activeEntry
    if (a && e) {
        if (flowOnly(e)) L.push("Basic infusion")
        else {
            const name = a.drug
            const dose = doseText(a.dose, e.doseUnit)
            if (name.length + 1 + dose.length <= SCREEN_COLS) L.push(name + " " + dose)
            else {
                L.push(name)
                L.push(dose)
            }
        }
    } else L.push("Program (no drug)")
    const rate = isDeliveringState(p.state) ? p.rateUlPerH : prog ? prog.rateUlPerH : 0
    L.push("Rate " + rateText(rate))
    L.push(volumeText(p.infusedUl) + " of " + volumeText(p.vtbiUl))
    const r = prog ? prog.rateUlPerH : 0
    L.push("Left " + (r > 0 ? durationText(Math.floor((p.remainingUl * 60) / r)) : "--"))
    L.push(pressureBar(st))
    pad(L, SCREEN_ROWS - 1)
    const items = runItems(c)
    L.push("> " + items[s.sel < items.length ? s.sel : 0])
    return L
}

/** "P [####    ] 120 mmHg": line pressure against the occlusion limit (8 cells). */
function pressureBar(st: PanelStatus): string {
    const mm = st.pressureMmHg > 0 ? Math.floor(st.pressureMmHg) : 0
    const lim = st.pressureLimitMmHg > 0 ? st.pressureLimitMmHg : 1
    let n = Math.floor((mm * 8) / lim)
    if (n > 8) n = 8
    let bar = ""
    for (let i = 0; i < 8; i++) bar += i < n ? "#" : " "
    return "P [" + bar + "] " + mm + " mmHg"
}
