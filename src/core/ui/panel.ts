// Front-panel model: (UI state, key or tick, pump/panel status) -> (new UI state, screen, at most
// one command to the pump, events to log). No clock (time arrives with each input), no I/O, so
// every screen flow is a vitest timeline and the same file runs on the device.
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
//
// Written for the VM's 64 KB code budget (docs/front-panel.md): one step function over module
// variables (no context object), few small functions (each costs a 16-byte descriptor), screen
// text as literals in one renderer.

import { isPerKg, AMT_ML } from "../druglib/doseUnits"
import {
    BASIC_INFUSION, basicEntry, checkBolus, checkTitration, copyRequest, doseToRateUlPerH, DoseResult, DoseRequest,
    emptyRequest, findEntry, programDose, SoftExcursion,
} from "../druglib/dosing"
import { CareArea, DrugEntry, Limits, NONE, DrugLibrary } from "../druglib/model"
import { EventSink } from "../eventLog"
import { EventKind } from "../eventKinds"
import { InfusionProgram, MAX_RATE_UL_PER_H, MIN_RATE_UL_PER_H } from "../program"
import { PumpStatus } from "../pump"
import { findAlarm } from "../safety/alarmCodes"
import { findSyringe, SYRINGES } from "../syringe"
import { batteryText, concText, doseText, durationText, fit, formatDose, tidyNumbers, wrap } from "./format"

export { tidyNumbers } from "./format"

/** The panel's own timer (firmware/panel.ts): key repeat and timeouts advance on it, never inside the control tick. */
export const UI_TICK_MS = 100
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
    value: number
    /** Step rule: "dose" (decade steps on thousandths), "weight" (g), "volume" (µL). */
    rule: string
    limits: Limits
    absMin: number
    absMax: number
    /** Dose unit code (rule "dose"). */
    unit: number
    /** Set when auto-repeat stopped at a limit: a fresh press is needed to go on. */
    blocked: boolean
}

/** The panel's state. uiStep updates the state it is given and returns it (one allocation less
 *  per key on a 64 KB heap); the caller keeps only the returned one. */
export interface UiState {
    screen: string
    /** Screen a program / titration / bolus started from; the timeout returns there. */
    origin: string
    sel: number
    page: number
    req: DoseRequest
    area: CareArea
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
        screen: "home", origin: "home", sel: 0, page: 0, req: null, area: null, entry: null, active: null, activeEntry: null, editor: null,
        verdict: null, verdictFor: "", confirmed: [], message: "", held: "", heldSinceMs: 0, lastRepeatMs: 0, repeats: 0, lastKeyMs: 0,
        locked: false, unlockStep: 0, viewId: "", viewSinceMs: 0,
    }
}

// The step in progress (set by uiStep; nothing survives between steps but the returned state).
let S: UiState = null
let ST: PanelStatus = null
let NOW = 0
let CMD: UiCommand = null
let LOG: UiLogRecord[] = []
/** The dose checker's log records are collected so the model stays pure; the firmware writes them. */
const SINK: EventSink = {
    record: (timeMs: number, kind: EventKind, detail: string) => {
        LOG.push({ kind: kind, detail: detail })
    },
}

const HOME_ITEMS = ["New infusion", "Event history", "Lock keys"]
/** Screens of an unfinished program, titration or bolus (the timeout applies). */
const PROGRAMMING = ["syringe", "area", "drug", "conc", "weight", "dose", "vtbi", "review", "soft", "refused", "titrate", "bolus", "history"]
const EDITORS = ["weight", "dose", "vtbi", "titrate", "bolus"]
const EDITOR_TITLES = ["PATIENT WEIGHT", "DOSE", "VTBI", "NEW DOSE", "BOLUS DOSE"]
const LISTS = ["home", "syringe", "area", "drug", "conc", "run"]
/** Pump states whose label is not just the state in capitals, and the label. */
const STATE_LABELS = ["Programmed", "READY TO START", "Complete", "VTBI COMPLETE", "Alarm", "ALARM: STOPPED"]
const REVIEW_PAGE = 5

function rec(kind: EventKind, detail: string) {
    LOG.push({ kind: kind, detail: detail })
}

function command(op: string): UiCommand {
    CMD = { op: op, program: null, rateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 }
    return CMD
}

function go(screen: string) {
    S.screen = screen
    S.sel = 0
    S.page = 0
}

function delivering(): boolean {
    const p = ST.pump.state
    return p === "Running" || p === "Bolus" || p === "KVO"
}

/** The overlay takes the keys until the alarm is acknowledged (audio paused) or gone. */
function overlay(): boolean {
    return ST.alarmCode.length > 0 && !ST.audioPaused
}

function flowOnly(e: DrugEntry): boolean {
    return (e.doseUnit & 0x0f) === AMT_ML
}

/** The first of a, b, c that is set, else d. */
function firstSet(a: number, b: number, c: number, d: number): number {
    return a !== NONE ? a : b !== NONE ? b : c !== NONE ? c : d
}

export function uiStep(s: UiState, input: UiInput, st: PanelStatus): UiOutput {
    S = s
    ST = st
    NOW = input.nowMs
    CMD = null
    LOG = []
    follow()
    if (input.kind === "tick") tick()
    else if (input.kind === "press") press(input.key)
    else if (s.held === input.key) s.held = ""
    const screen = render()
    // Review pages are separate views (START on page 1 must not also start the infusion).
    const id = s.screen + (s.screen === "review" ? s.page : "") + "/" + (overlay() ? st.alarmCode : "") + (s.locked ? "/L" : "")
    if (id !== s.viewId) {
        s.viewId = id
        s.viewSinceMs = NOW
    }
    const out: UiOutput = { state: s, screen: screen, command: CMD, log: LOG }
    S = null
    ST = null
    return out
}

/** Keeps the screen consistent with the pump: a program appears or disappears under the panel
 *  (remote command, power restore, clear), the library goes away mid-program. */
function follow() {
    const s = S
    const p = ST.pump.state
    const scr = s.screen
    if (p === "OutOfService") return go("oos")
    if (scr === "oos") go("home")
    if (p !== "Idle") {
        if (s.screen === "home") go("run")
    } else if (scr === "run" || scr === "titrate" || scr === "bolus" || ((scr === "soft" || scr === "refused") && s.verdictFor !== "program")) {
        s.active = null
        s.activeEntry = null
        go("home")
    } else if (!ST.library && s.req) cancel()
}

function cancel() {
    const s = S
    s.req = null
    s.entry = null
    s.editor = null
    s.verdict = null
    go(s.origin)
}

function tick() {
    const s = S
    const e = s.editor
    if (PROGRAMMING.indexOf(s.screen) >= 0 && NOW - s.lastKeyMs >= PROGRAM_TIMEOUT_MS) {
        if (s.screen !== "history") rec("UI_TIMEOUT", "unfinished " + s.screen + " discarded: no key for " + PROGRAM_TIMEOUT_MS + " ms; back to " + s.origin)
        s.message = ""
        return cancel()
    }
    // Auto-repeat only on an editor's own screen: a key held on the soft-limit screen must not
    // change the value behind it.
    if (e && EDITORS.indexOf(s.screen) >= 0 && (s.held === "up" || s.held === "down") && !e.blocked && !s.locked) {
        if (NOW - s.heldSinceMs >= REPEAT_DELAY_MS && NOW - s.lastRepeatMs >= REPEAT_PERIOD_MS) {
            s.lastRepeatMs = NOW
            s.repeats++
            nudge(s.held === "up" ? 1 : -1, s.repeats > REPEAT_FAST_AFTER ? 10 : 1, true)
        }
    }
}

function press(key: UiKey) {
    const s = S
    const guarded = NOW - s.viewSinceMs < VIEW_GUARD_MS
    s.lastKeyMs = NOW
    if (key === "ack") {
        if (ST.alarmCode.length > 0) command("ack")
        return
    }
    // STOP on the running screen (or its alarm overlay, or locked) stops delivery at once. On a
    // screen opened from it (titration, bolus, history) STOP first cancels back to it, so that
    // backing out of a titration never interrupts a vasoactive infusion; a second STOP pauses.
    if (key === "stop" && delivering() && (s.screen === "run" || s.locked || overlay())) {
        command("pause")
        return
    }
    if (s.locked) {
        if (key === UNLOCK_SEQUENCE[s.unlockStep]) {
            s.unlockStep++
            if (s.unlockStep >= UNLOCK_SEQUENCE.length) {
                s.locked = false
                s.unlockStep = 0
                rec("UI_UNLOCK", "keypad unlocked")
            }
        } else s.unlockStep = key === UNLOCK_SEQUENCE[0] ? 1 : 0
        return
    }
    if (guarded || overlay()) return
    s.held = key
    s.heldSinceMs = NOW
    s.lastRepeatMs = NOW
    s.repeats = 0
    s.message = ""
    const scr = s.screen
    const e = s.editor
    const up = key === "up"
    if (LISTS.indexOf(scr) >= 0) {
        const items = listItems()
        const n = items.length
        if (s.sel >= n) s.sel = 0
        if (up || key === "down") {
            if (n > 0) s.sel = (s.sel + (up ? n - 1 : 1)) % n
        } else if (key === "stop") listBack(scr)
        else listSelect(scr, items[s.sel])
    } else if (EDITORS.indexOf(scr) >= 0) {
        e.blocked = false
        if (up || key === "down") nudge(up ? 1 : -1, 1, false)
        else if (key === "stop") editorBack(scr)
        else if (e.value === NONE) s.message = "Enter a value"
        else editorDone(scr, e.value)
    } else if (scr === "review" || scr === "history") {
        const pages = scr === "review" ? Math.ceil(reviewLines().length / REVIEW_PAGE) : ST.history.length
        if (up) {
            if (s.page > 0) s.page--
        } else if (key === "down") {
            if (s.page < pages - 1) s.page++
        } else if (scr === "history") go(s.origin)
        else if (key === "stop") edit("vtbi", "volume", s.req.vtbiUl, null, 100, syringeUl())
        // Every value must have been on screen: START on an earlier page shows the next one.
        else if (s.page < pages - 1) s.page++
        else check("program")
    } else if (scr === "soft" && key === "start") {
        // The clinician confirms exactly the excursion on screen; the checker logs it.
        const list = s.confirmed.slice(0)
        list.push(firstUnconfirmed().field)
        s.confirmed = list
        recheck()
    } else if (scr === "soft" || scr === "refused") {
        if (key === "stop" || key === "start") backToValue()
    }
}

// ---- list screens: home, syringe, care area, drug, concentration, running menu ------------

function listItems(): string[] {
    const s = S
    const scr = s.screen
    const out: string[] = []
    if (scr === "home") return HOME_ITEMS
    if (scr === "syringe") for (let i = 0; i < SYRINGES.length; i++) out.push(SYRINGES[i].brand)
    else if (scr === "area") for (let i = 0; i < ST.library.careAreas.length; i++) out.push(ST.library.careAreas[i].name)
    else if (scr === "drug") {
        // The area's drugs, then the basic mL/h infusion when the library gives the area flow
        // limits for it (a hard maximum; without one the library does not allow basic mode).
        const a = s.area
        for (let i = 0; i < a.drugs.length; i++) out.push(a.drugs[i])
        if (a.basicRateUlPerH && a.basicRateUlPerH.hardMax !== NONE) out.push(BASIC_INFUSION)
    } else if (scr === "conc") for (let i = 0; i < s.entry.concentrations.length; i++) out.push(concText(s.entry.concentrations[i], s.entry.concUnit))
    else {
        const p = ST.pump.state
        const d = delivering()
        if (d && s.active) out.push("Titrate")
        if (d && s.activeEntry && s.activeEntry.bolus && p === "Running") out.push("Bolus")
        if (d) out.push("Pause")
        if (p === "Paused") {
            out.push("Resume")
            if (s.active) out.push("Titrate")
            out.push("End infusion")
        }
        if (p === "Programmed") out.push("Start")
        if (p === "Programmed" || p === "Complete") out.push("Clear")
        out.push("Event history")
        out.push("Lock keys")
    }
    return out
}

function listBack(scr: string) {
    if (scr === "syringe") cancel()
    else if (scr === "area") go("syringe")
    else if (scr === "drug") go("area")
    else if (scr === "conc") go("drug")
    else if (scr === "run" && ST.pump.state === "Paused") command("stop")
}

function listSelect(scr: string, it: string) {
    const s = S
    const r = s.req
    const lib = ST.library
    if (it === "Event history") {
        s.origin = scr
        return go("history")
    }
    if (it === "Lock keys") {
        s.locked = true
        s.unlockStep = 0
        return rec("UI_LOCK", "keypad locked")
    }
    if (scr === "home") {
        if (!lib) {
            s.message = "No drug library"
            return
        }
        s.origin = "home"
        s.req = emptyRequest()
        s.entry = null
        go("syringe")
    } else if (scr === "syringe") {
        if (!ST.plungerEngaged) {
            s.message = "Plunger not engaged"
            return
        }
        r.syringeId = SYRINGES[s.sel].id
        go("area")
    } else if (scr === "area") {
        s.area = lib.careAreas[s.sel]
        r.careArea = s.area.name
        go("drug")
    } else if (scr === "drug") {
        const e = it === BASIC_INFUSION ? basicEntry(s.area) : findEntry(lib, s.area, it)
        if (!e) {
            s.message = "Entry unreadable"
            return
        }
        s.entry = e
        r.drug = it
        r.doseUnit = e.doseUnit
        r.concUnit = e.concUnit
        r.concentration = null
        r.weightG = NONE
        r.confirmed = []
        if (it === BASIC_INFUSION) rec("UI_BASIC_MODE", "area=" + s.area.name + ": basic mL/h infusion selected (no drug limits, area flow limits only)")
        if (flowOnly(e)) openDose(NONE)
        else go("conc")
    } else if (scr === "conc") {
        if (s.entry.concentrations.length === 0) {
            s.message = "No concentration"
            return
        }
        r.concentration = s.entry.concentrations[s.sel]
        if (isPerKg(s.entry.doseUnit)) openWeight()
        else openDose(NONE)
    } else runSelect(it)
}

function runSelect(it: string) {
    const s = S
    const e = s.activeEntry
    s.origin = "run"
    s.confirmed = []
    if (it === "Titrate") edit("titrate", "dose", s.active.dose, e.dose, flowOnly(e) ? MIN_RATE_UL_PER_H : 10, flowOnly(e) ? MAX_RATE_UL_PER_H : 100000000)
    else if (it === "Bolus") {
        const b = e.bolus
        edit("bolus", "dose", firstSet(b.defaultDose, b.dose.softMin, b.dose.hardMin, 1000), b.dose, 10, 100000000)
        s.editor.unit = b.unit
    } else if (it === "Pause") command("pause")
    else if (it === "Resume") command("resume")
    else if (it === "End infusion") command("stop")
    else if (it === "Start") command("startLoaded")
    else if (it === "Clear") command("clear")
}

// ---- editors ----------------------------------------------------------------------------

/** Opens the value editor `scr` on `value` (NONE: blank until the first press). */
function edit(scr: string, rule: string, value: number, limits: Limits, absMin: number, absMax: number) {
    const ent = scr === "titrate" || scr === "bolus" ? S.activeEntry : S.entry
    if (!limits) limits = { hardMin: NONE, softMin: NONE, softMax: NONE, hardMax: NONE }
    S.editor = { value: value, rule: rule, limits: limits, absMin: absMin, absMax: absMax, unit: ent.doseUnit, blocked: false }
    go(scr)
}

function openWeight() {
    // No default weight: the field starts blank ("--- kg") and the first press shows a value.
    edit("weight", "weight", S.req.weightG, S.entry.weightG, 100, 500000)
}

/** The dose (or mL/h rate) editor, on `value` or else the library default. */
function openDose(value: number) {
    const e = S.entry
    const flow = flowOnly(e)
    edit("dose", "dose", value !== NONE ? value : firstSet(e.defaultDose, e.dose.softMin, e.dose.hardMin, 1000), e.dose, flow ? MIN_RATE_UL_PER_H : 10, flow ? MAX_RATE_UL_PER_H : 100000000)
}

function syringeUl(): number {
    const sp = findSyringe(S.req.syringeId)
    return sp ? sp.nominalMl * 1000 : 0
}

/** Step size at `v` going up (dir 1) or down (-1): decades for doses, so 0.01 steps below 1,
 *  0.1 below 10, 1 below 100 and 10 above (never a trailing-zero-looking jump). */
function stepAt(rule: string, v: number, dir: number): number {
    const x = dir > 0 ? v : v - 1
    if (rule !== "dose") return x < (rule === "weight" ? 20000 : 10000) ? 100 : 1000
    return x < 1000 ? 10 : x < 10000 ? 100 : x < 100000 ? 1000 : 10000
}

/** Moves the editor value. Auto-repeat (`repeating`) stops AT every soft limit it would cross
 *  and waits for a fresh press; nothing ever goes past a hard limit (the reason is shown). */
function nudge(dir: number, mult: number, repeating: boolean) {
    const e = S.editor
    const l = e.limits
    const lo = l.hardMin !== NONE && l.hardMin > e.absMin ? l.hardMin : e.absMin
    const hi = l.hardMax !== NONE && l.hardMax < e.absMax ? l.hardMax : e.absMax
    if (e.value === NONE) {
        // First press on a blank field shows a value; it does not step past one.
        e.value = firstSet(l.softMin, l.hardMin, lo, lo)
        if (e.value < lo) e.value = lo
        return
    }
    let next = e.value + dir * stepAt(e.rule, e.value, dir) * mult
    for (let i = 0; repeating && i < 2; i++) {
        const b = i === 0 ? l.softMin : l.softMax
        if (b !== NONE && (b - e.value) * dir > 0 && (next - b) * dir > 0) {
            next = b
            e.blocked = true
        }
    }
    if (next > hi || next < lo) {
        const bound = next > hi ? hi : lo
        next = bound
        e.blocked = true
        if (e.value === bound) S.message = "HARD LIMIT: " + (bound === hi ? "max" : "min") + "\n" + valueText(e, bound)
    }
    if (e.blocked && S.message.length === 0) S.message = "Limit: release key"
    e.value = next
}

function valueText(e: Editor, v: number): string {
    if (e.rule === "weight") return v === NONE ? "--- kg" : formatDose(v) + " kg"
    if (v === NONE) return "---"
    if (e.rule === "volume") return formatDose(v) + " mL"
    return doseText(v, e.unit)
}

function editorDone(scr: string, v: number) {
    const s = S
    if (scr === "weight") {
        s.req.weightG = v
        openDose(NONE)
    } else if (scr === "dose") {
        s.req.dose = v
        edit("vtbi", "volume", syringeUl(), null, 100, syringeUl())
    } else if (scr === "vtbi") {
        s.req.vtbiUl = v
        s.editor = null
        go("review")
    } else check(scr)
}

function editorBack(scr: string) {
    const s = S
    if (scr === "titrate" || scr === "bolus") {
        s.editor = null
        go("run")
    } else if (scr === "weight") go("conc")
    else if (scr === "vtbi") openDose(s.req.dose)
    else if (flowOnly(s.entry)) go("drug")
    else if (isPerKg(s.entry.doseUnit)) openWeight()
    else go("conc")
}

function bolusDurationS(e: DrugEntry): number {
    const b = e.bolus
    return firstSet(b.defaultDurationS, b.durationS.softMin, b.durationS.hardMin, 60)
}

// ---- verdicts -----------------------------------------------------------------------------

/** Starts the library check of the program, a titration or a bolus. */
function check(what: string) {
    S.verdictFor = what
    S.confirmed = []
    recheck()
}

/** Runs the library check for what is being confirmed, with the excursions confirmed so far,
 *  and acts on the verdict. */
function recheck() {
    const s = S
    const lib = ST.library
    const what = s.verdictFor
    let v: DoseResult = null
    if (what === "program") {
        s.req.confirmed = s.confirmed
        v = programDose(lib, s.req, SINK, NOW)
    } else if (what === "titrate") v = checkTitration(lib, s.active, s.editor.value, carried(false), SINK, NOW)
    else v = checkBolus(lib, s.active, s.editor.value, bolusDurationS(s.activeEntry), carried(true), SINK, NOW)
    s.verdict = v
    if (v.status === "refused") return go("refused")
    if (v.status === "confirm") {
        const x = firstUnconfirmed()
        rec("UI_SOFT_LIMIT", what + ": " + x.field + " " + x.value + " beyond " + x.bound + " " + x.limit + " (" + x.unit + ", thousandths) shown for confirmation")
        return go("soft")
    }
    const cmd = command(what === "program" ? "start" : what)
    cmd.program = v.program
    cmd.rateUlPerH = v.program.rateUlPerH
    cmd.bolusUl = v.program.bolusUl
    cmd.bolusDurationS = v.program.bolusDurationS
    if (what === "program") {
        s.active = copyRequest(s.req)
        s.activeEntry = s.entry
        s.req = null
        s.origin = "home"
    } else if (what === "titrate") {
        s.active.dose = s.editor.value
        s.active.confirmed = carried(false)
    }
    s.editor = null
    s.verdict = null
    go("run")
}

/** Excursions confirmed when the infusion was programmed stay confirmed (the weight, the
 *  concentration; the dose too for a bolus), plus those confirmed now. A new dose is new. */
function carried(keepDose: boolean): string[] {
    const s = S
    const out: string[] = []
    const before = s.active.confirmed
    for (let i = 0; i < before.length; i++) if (keepDose || before[i] !== "dose") out.push(before[i])
    for (let i = 0; i < s.confirmed.length; i++) out.push(s.confirmed[i])
    return out
}

function firstUnconfirmed(): SoftExcursion {
    const v = S.verdict
    for (let i = 0; i < v.soft.length; i++) if (S.confirmed.indexOf(v.soft[i].field) < 0) return v.soft[i]
    return v.soft[0]
}

/** From a verdict back to the value that caused it (the dose, or the titration/bolus value). */
function backToValue() {
    const s = S
    s.verdict = null
    if (s.verdictFor === "program") {
        s.confirmed = []
        openDose(s.req.dose)
    } else go(s.verdictFor)
}

// ---- rendering --------------------------------------------------------------------------

function computedRate(r: DoseRequest, e: DrugEntry, dose: number): number {
    if (flowOnly(e)) return dose
    if (!r.concentration || (isPerKg(e.doseUnit) && !(r.weightG > 0))) return -1
    return doseToRateUlPerH(e.doseUnit, dose, r.weightG, e.concUnit, r.concentration).value
}

function rateText(ulPerH: number): string {
    return ulPerH >= 0 ? formatDose(ulPerH) + " mL/h" : "--"
}

function header(title: string): string {
    const bat = batteryText(ST.batteryMv)
    return fit(title, SCREEN_COLS - bat.length - 1) + " " + bat
}

/** Weights are in g, durations in s, everything else in thousandths of the unit. */
function excursionText(x: SoftExcursion, v: number): string {
    if (x.unit === "s") return v + " s"
    return formatDose(v) + " " + (x.unit === "g" ? "kg" : x.unit)
}

function reviewLines(): string[] {
    const r = S.req
    const e = S.entry
    const out = ["Area " + r.careArea, e.drug]
    if (r.concentration) out.push("Conc " + concText(r.concentration, e.concUnit))
    if (r.weightG !== NONE) out.push("Weight " + formatDose(r.weightG) + " kg")
    if (!flowOnly(e)) out.push("Dose " + doseText(r.dose, e.doseUnit))
    out.push("Rate " + rateText(computedRate(r, e, r.dose)))
    out.push("VTBI " + formatDose(r.vtbiUl) + " mL")
    const sp = findSyringe(r.syringeId)
    out.push(sp ? sp.brand + " " + sp.nominalMl + " mL" : "Syringe ?")
    return out
}

function render(): Screen {
    const s = S
    const st = ST
    let L: string[] = []
    let inverted = false
    if (overlay()) {
        const def = findAlarm(st.alarmCode)
        const pr = def ? def.priority : st.alarmPriority
        L.push(pr.toUpperCase() + " PRIORITY ALARM")
        const text = wrap(def ? def.text : st.alarmCode, SCREEN_COLS)
        for (let i = 0; i < 5; i++) L.push(i < text.length ? text[i] : "")
        L.push(stateLabel())
        L.push("ACK: silence 2 min")
        inverted = pr === "high"
    } else {
        L = body()
        if (st.alarmCode.length > 0) L[0] = fit("!" + st.alarmCode, SCREEN_COLS - 10) + " audio off"
        if (s.locked) L[SCREEN_ROWS - 1] = "LOCKED: UP DOWN UP"
        else if (s.message.length > 0) {
            // The message ends on the row above the key help; a two-line one takes the row above too.
            const m = ("! " + s.message).split("\n")
            for (let i = 0; i < m.length; i++) L[SCREEN_ROWS - 1 - m.length + i] = m[i]
        }
    }
    const out: string[] = []
    for (let i = 0; i < SCREEN_ROWS; i++) out.push(fit(i < L.length && L[i] ? L[i] : "", SCREEN_COLS))
    return { lines: out, inverted: inverted }
}

function stateLabel(): string {
    const p = ST.pump.state
    const i = STATE_LABELS.indexOf(p)
    return i >= 0 ? STATE_LABELS[i + 1] : p.toUpperCase()
}

/** The screen's lines (the renderer pads each to the width and the list to 8 rows). */
function body(): string[] {
    const s = S
    const st = ST
    const scr = s.screen
    const e = s.editor
    const L: string[] = []
    if (scr === "oos") return ["OUT OF SERVICE", st.selfTestOk ? "See event log" : "Self-test failed", "Do not use.", "Call biomedical", "engineering."]
    if (scr === "home") {
        const lib = st.library
        return [header("PUMP READY"), "Self-test: " + (st.selfTestOk ? "passed" : "FAILED"), lib ? "Lib: " + lib.name : "No drug library", lib ? "Library v" + lib.version : "", "", "> " + HOME_ITEMS[s.sel], "UP/DOWN, START: go"]
    }
    if (scr === "syringe") {
        const sp = SYRINGES[s.sel]
        return [header("SYRINGE"), "> " + sp.brand, "  " + sp.nominalMl + " mL", "Plunger: " + (st.plungerEngaged ? "engaged" : "NOT ENGAGED"), "", "", "START: confirm", "STOP: cancel"]
    }
    if (scr === "area" || scr === "drug" || scr === "conc") {
        L.push(header(scr === "area" ? "CARE AREA" : scr === "drug" ? "DRUG (" + s.req.careArea + ")" : "CONCENTRATION"))
        const items = listItems()
        for (let i = s.sel >= 5 ? s.sel - 4 : 0; i < items.length && L.length < 6; i++) L.push((i === s.sel ? "> " : "  ") + items[i])
        while (L.length < 6) L.push("")
        L.push(scr === "conc" ? s.entry.drug : "")
        L.push("START: select")
        return L
    }
    const ed = EDITORS.indexOf(scr)
    if (ed >= 0) {
        const ent = ed >= 3 ? s.activeEntry : s.entry
        const flow = flowOnly(ent)
        L.push(header(ed === 1 && flow ? "RATE" : EDITOR_TITLES[ed]))
        L.push(ent.drug)
        L.push("  " + valueText(e, e.value))
        if (scr === "bolus") L.push("over " + bolusDurationS(ent) + " s")
        else if ((ed === 1 || ed === 3) && !flow) L.push("= " + rateText(computedRate(ed === 1 ? s.req : s.active, ent, e.value)))
        else L.push("")
        // The usual (soft) range, else the hard one, each bound with its unit.
        const l = e.limits
        const lo = l.softMin !== NONE ? l.softMin : l.hardMin
        const hi = l.softMax !== NONE ? l.softMax : l.hardMax
        L.push(lo !== NONE ? "Low  " + valueText(e, lo) : "")
        L.push(hi !== NONE ? "High " + valueText(e, hi) : e.rule === "volume" ? "Max  " + valueText(e, e.absMax) : "")
        L.push("UP/DOWN: change")
        L.push("START: ok  STOP: back")
        return L
    }
    if (scr === "review") {
        const all = reviewLines()
        const last = s.page >= Math.ceil(all.length / REVIEW_PAGE) - 1
        L.push(header("REVIEW"))
        for (let i = 0; i < REVIEW_PAGE; i++) L.push(s.page * REVIEW_PAGE + i < all.length ? all[s.page * REVIEW_PAGE + i] : "")
        L.push(last ? "" : "DOWN: more values")
        L.push(last ? "START: start infusion" : "START: next")
        return L
    }
    if (scr === "soft") {
        const x = firstUnconfirmed()
        return [
            "SOFT LIMIT", x.field.charAt(0).toUpperCase() + x.field.slice(1) + " " + excursionText(x, x.value), x.bound === "softMax" ? "is ABOVE soft max" : "is BELOW soft min",
            "(limit " + excursionText(x, x.limit) + ")", "Confirm this value?", "", "START: confirm", "STOP: change value",
        ]
    }
    if (scr === "refused" || scr === "history") {
        const hist = scr === "history"
        L.push(hist ? "EVENT HISTORY" : "NOT ALLOWED")
        // The checker's reasons print thousandths with three decimals ("30.000 mg"): shown tidied.
        const text = hist ? st.history.slice(s.page) : wrap(tidyNumbers(s.verdict.reasons.join("; ")), SCREEN_COLS)
        if (hist && st.history.length === 0) text.push("(no events)")
        for (let i = 0; i < 6; i++) L.push(i < text.length ? text[i] : "")
        L.push(hist ? "STOP: back" : "STOP: change value")
        return L
    }
    return runLines()
}

function runLines(): string[] {
    const s = S
    const st = ST
    const p = st.pump
    const L = [header(stateLabel())]
    const prog = p.program
    const a = s.active
    const e = s.activeEntry
    if (a && e) {
        if (flowOnly(e)) L.push(BASIC_INFUSION)
        else {
            const dose = doseText(a.dose, e.doseUnit)
            if (a.drug.length + 1 + dose.length <= SCREEN_COLS) L.push(a.drug + " " + dose)
            else {
                L.push(a.drug)
                L.push(dose)
            }
        }
    } else L.push("Program (no drug)")
    const r = prog ? prog.rateUlPerH : 0
    L.push("Rate " + rateText(delivering() ? p.rateUlPerH : r))
    L.push(formatDose(p.infusedUl) + " mL of " + formatDose(p.vtbiUl) + " mL")
    L.push("Left " + (r > 0 ? durationText(Math.floor((p.remainingUl * 60) / r)) : "--"))
    // "P [####    ] 120 mmHg": line pressure against the occlusion limit (8 cells).
    const mm = st.pressureMmHg > 0 ? Math.floor(st.pressureMmHg) : 0
    const n = Math.floor((mm * 8) / (st.pressureLimitMmHg > 0 ? st.pressureLimitMmHg : 1))
    L.push("P [" + fit("########".slice(0, n), 8) + "] " + mm + " mmHg")
    while (L.length < SCREEN_ROWS - 1) L.push("")
    const items = listItems()
    L.push("> " + items[s.sel < items.length ? s.sel : 0])
    return L
}
