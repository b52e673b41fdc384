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
import { concText, doseText, fit, formatDose, tidyNumbers, wrap } from "./format"

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
/** Pump state, "delivering" and "the alarm overlay takes the keys" for this step (the status does
 *  not change within a step). */
let PS = ""
let DLV = false
let OV = false
/** The dose checker's log records are collected so the model stays pure; the firmware writes them. */
const SINK: EventSink = {
    record: (timeMs: number, kind: EventKind, detail: string) => rec(kind, detail),
}

// Screen-name sets as strings searched with indexOf: data, not code (no screen name is a
// substring of another set's member that is not itself in the set).
/** Screens of an unfinished program, titration or bolus (the timeout applies). */
const PROGRAMMING = "syringe area drug conc weight dose vtbi review soft refused titrate bolus history"
const EDITORS = "weight dose vtbi titrate bolus"
const LISTS = "home syringe area drug conc run"
/** Pump states whose label is not just the state in capitals, and the label. */
const STATE_LABELS = "|Programmed=READY TO START|Complete=VTBI COMPLETE|Alarm=ALARM: STOPPED|"
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

function flowOnly(e: DrugEntry): boolean {
    return (e.doseUnit & 0x0f) === AMT_ML
}

/** The value for `key` in a "|key=value|key=value|" table ("" when absent): tables as strings
 *  are data, not code. */
function lookup(table: string, key: string): string {
    const k = table.indexOf("|" + key + "=")
    if (k < 0) return ""
    return table.slice(k + key.length + 2, table.indexOf("|", k + 1))
}

/** `a` when `c` is truthy, else `b` (a call is shorter bytecode than a conditional). */
function pick(c: any, a: string, b: string): string {
    return c ? a : b
}

/** The first of a, b, c that is set, else d. */
function firstSet(a: number, b: number, c: number, d: number): number {
    if (a !== NONE) return a
    if (b !== NONE) return b
    if (c !== NONE) return c
    return d
}

export function uiStep(s: UiState, input: UiInput, st: PanelStatus): UiOutput {
    S = s
    ST = st
    NOW = input.nowMs
    CMD = null
    LOG = []
    const p = st.pump.state
    PS = p
    DLV = "Running Bolus KVO".indexOf(p) >= 0
    OV = false
    if (st.alarmCode.length > 0) OV = !st.audioPaused
    // Keep the screen consistent with the pump: a program appears or disappears under the panel
    // (remote command, power restore, clear), the library goes away mid-program.
    let scr = s.screen
    if (p === "OutOfService") go("oos")
    else {
        if (scr === "oos") go("home")
        if (p !== "Idle") {
            if (s.screen === "home") go("run")
        } else {
            // The infusion ended: its screens (and a titration/bolus verdict) go home.
            let ended = "run titrate bolus".indexOf(scr) >= 0
            if (s.verdictFor !== "program") if ("soft refused".indexOf(scr) >= 0) ended = true
            if (ended) {
                s.active = null
                s.activeEntry = null
                go("home")
            } else if (!st.library) if (s.req) cancel()
        }
    }
    scr = s.screen
    const e = s.editor
    if (input.kind === "tick") {
        if (PROGRAMMING.indexOf(scr) >= 0 && NOW - s.lastKeyMs >= PROGRAM_TIMEOUT_MS) {
            if (scr !== "history") rec("UI_TIMEOUT", "unfinished " + scr + " discarded: no key for " + PROGRAM_TIMEOUT_MS + " ms; back to " + s.origin)
            s.message = ""
            cancel()
        } else if (e) {
            // Auto-repeat only on an editor's own screen: a key held on the soft-limit screen must
            // not change the value behind it.
            let d = 0
            if (s.held === "up") d = 1
            if (s.held === "down") d = -1
            if (d !== 0) if (EDITORS.indexOf(scr) >= 0) if (!e.blocked) if (!s.locked)
                if (NOW - s.heldSinceMs >= REPEAT_DELAY_MS) if (NOW - s.lastRepeatMs >= REPEAT_PERIOD_MS) {
                    s.lastRepeatMs = NOW
                    s.repeats++
                    nudge(d, s.repeats > REPEAT_FAST_AFTER ? 10 : 1, true)
                }
        }
    } else if (input.kind === "press") press(input.key)
    else if (s.held === input.key) s.held = ""
    const screen = render()
    // Review pages are separate views (START on page 1 must not also start the infusion).
    const id = s.screen + (s.screen === "review" ? s.page : "") + "/" + pick(OV, st.alarmCode, "") + pick(s.locked, "/L", "")
    if (id !== s.viewId) {
        s.viewId = id
        s.viewSinceMs = NOW
    }
    const out: UiOutput = { state: s, screen: screen, command: CMD, log: LOG }
    S = null
    ST = null
    return out
}

function cancel() {
    const s = S
    s.req = null
    s.entry = null
    s.editor = null
    s.verdict = null
    go(s.origin)
}

function press(key: UiKey) {
    const s = S
    s.lastKeyMs = NOW
    const stop = key === "stop"
    if (key === "ack") {
        if (ST.alarmCode.length > 0) command("ack")
        return
    }
    // STOP on the running screen (or its alarm overlay, or locked) stops delivery at once. On a
    // screen opened from it (titration, bolus, history) STOP first cancels back to it, so that
    // backing out of a titration never interrupts a vasoactive infusion; a second STOP pauses.
    if (stop) if (DLV) {
        let now = OV
        if (s.locked) now = true
        if (s.screen === "run") now = true
        if (now) {
            command("pause")
            return
        }
    }
    if (s.locked) {
        if (key === UNLOCK_SEQUENCE[s.unlockStep]) {
            s.unlockStep++
            if (s.unlockStep >= UNLOCK_SEQUENCE.length) {
                s.locked = false
                s.unlockStep = 0
                rec("UI_UNLOCK", "keypad unlocked")
            }
        } else {
            s.unlockStep = 0
            if (key === UNLOCK_SEQUENCE[0]) s.unlockStep = 1
        }
        return
    }
    if (NOW - s.viewSinceMs < VIEW_GUARD_MS) return
    if (OV) return
    s.held = key
    s.heldSinceMs = NOW
    s.lastRepeatMs = NOW
    s.repeats = 0
    s.message = ""
    const scr = s.screen
    const e = s.editor
    const r = s.req
    const up = key === "up"
    let dir = 0
    if (up) dir = 1
    if (key === "down") dir = -1
    if (LISTS.indexOf(scr) >= 0) {
        const items = listItems()
        const n = items.length
        if (s.sel >= n) s.sel = 0
        if (dir !== 0) {
            if (n > 0) s.sel = (s.sel + n - dir) % n
        } else if (!stop) {
            // START on list item `it`.
            const it = items[s.sel]
            const lib = ST.library
            const ent = s.entry
            if (it === "Event history") {
                s.origin = scr
                go("history")
            } else if (it === "Lock keys") {
                s.locked = true
                s.unlockStep = 0
                rec("UI_LOCK", "keypad locked")
            } else if (scr === "home") {
                if (!lib) s.message = "No drug library"
                else {
                    s.origin = "home"
                    s.req = emptyRequest()
                    s.entry = null
                    go("syringe")
                }
            } else if (scr === "syringe") {
                if (!ST.plungerEngaged) s.message = "Plunger not engaged"
                else {
                    r.syringeId = SYRINGES[s.sel].id
                    go("area")
                }
            } else if (scr === "area") {
                s.area = lib.careAreas[s.sel]
                r.careArea = s.area.name
                go("drug")
            } else if (scr === "drug") {
                const de = it === BASIC_INFUSION ? basicEntry(s.area) : findEntry(lib, s.area, it)
                if (!de) s.message = "Entry unreadable"
                else {
                    s.entry = de
                    r.drug = it
                    r.doseUnit = de.doseUnit
                    r.concUnit = de.concUnit
                    r.concentration = null
                    r.weightG = NONE
                    r.confirmed = []
                    if (it === BASIC_INFUSION) rec("UI_BASIC_MODE", "area=" + s.area.name + ": basic mL/h infusion selected (no drug limits, area flow limits only)")
                    if (flowOnly(de)) openEditor("dose", NONE)
                    else go("conc")
                }
            } else if (scr === "conc") {
                if (ent.concentrations.length === 0) s.message = "No concentration"
                else {
                    r.concentration = ent.concentrations[s.sel]
                    // No default weight: the field starts blank ("--- kg") and the first press shows a value.
                    if (isPerKg(ent.doseUnit)) openEditor("weight", r.weightG)
                    else openEditor("dose", NONE)
                }
            } else {
                // The running screen's menu.
                const a = s.activeEntry
                s.origin = "run"
                s.confirmed = []
                if (it === "Titrate") openEditor("titrate", s.active.dose)
                else if (it === "Bolus") openEditor("bolus", NONE)
                else command(lookup("|Pause=pause|Resume=resume|End infusion=stop|Start=startLoaded|Clear=clear|", it))
            }
        } else if (scr === "syringe") cancel()
        else if (scr === "run") {
            if (PS === "Paused") command("stop")
        } else if (scr !== "home") go(lookup("|area=syringe|drug=area|conc=drug|", scr))
    } else if (EDITORS.indexOf(scr) >= 0) {
        e.blocked = false
        if (dir !== 0) nudge(dir, 1, false)
        else if (stop) {
            if ("titrate bolus".indexOf(scr) >= 0) {
                s.editor = null
                go("run")
            } else if (scr === "weight") go("conc")
            else if (scr === "vtbi") openEditor("dose", r.dose)
            else if (flowOnly(s.entry)) go("drug")
            else if (isPerKg(s.entry.doseUnit)) openEditor("weight", r.weightG)
            else go("conc")
        } else if (e.value === NONE) s.message = "Enter a value"
        else if (scr === "weight") {
            r.weightG = e.value
            openEditor("dose", NONE)
        } else if (scr === "dose") {
            r.dose = e.value
            openEditor("vtbi", NONE)
        } else if (scr === "vtbi") {
            r.vtbiUl = e.value
            s.editor = null
            go("review")
        } else recheck(scr)
    } else if ("review history".indexOf(scr) >= 0) {
        let pages = ST.history.length
        if (scr === "review") pages = Math.ceil(reviewLines().length / REVIEW_PAGE)
        if (up) {
            if (s.page > 0) s.page--
        } else if (scr === "history" && dir === 0) go(s.origin)
        else if (stop) openEditor("vtbi", r.vtbiUl)
        // Every value must have been on screen: START on an earlier page shows the next one.
        else if (s.page < pages - 1) s.page++
        else if (dir === 0) recheck("program")
    } else if (scr === "soft" && key === "start") {
        // The clinician confirms exactly the excursion on screen; the checker logs it.
        const list = s.confirmed.slice(0)
        list.push(firstUnconfirmed().field)
        s.confirmed = list
        recheck(null)
    } else if (dir === 0) if ("soft refused".indexOf(scr) >= 0) {
        // From a verdict back to the value that caused it (the dose, or the titration/bolus value).
        s.verdict = null
        if (s.verdictFor === "program") {
            s.confirmed = []
            openEditor("dose", r.dose)
        } else go(s.verdictFor)
    }
}

// ---- list screens: home, syringe, care area, drug, concentration, running menu ------------

function listItems(): string[] {
    const s = S
    const scr = s.screen
    const ent = s.entry
    let out: string[] = []
    if (scr === "home") return "New infusion|Event history|Lock keys".split("|")
    if (scr === "syringe") return names(SYRINGES, "brand")
    if (scr === "area") return names(ST.library.careAreas, "name")
    if (scr === "drug") {
        // The area's drugs, then the basic mL/h infusion when the library gives the area flow
        // limits for it (a hard maximum; without one the library does not allow basic mode).
        const a = s.area
        out = a.drugs.slice(0)
        if (a.basicRateUlPerH) if (a.basicRateUlPerH.hardMax !== NONE) out.push(BASIC_INFUSION)
    } else if (scr === "conc") for (let i = 0; i < ent.concentrations.length; i++) out.push(concText(ent.concentrations[i], ent.concUnit))
    else {
        // The running screen's menu (delivering, paused, programmed and complete exclude each other).
        const p = PS
        const ae = s.activeEntry
        // Pushed one by one: a split here cost about 1,000 VM opcodes on every running-screen render.
        if (DLV) {
            if (s.active) out.push("Titrate")
            if (p === "Running") if (ae) if (ae.bolus) out.push("Bolus")
            out.push("Pause")
        }
        if (p === "Paused") {
            out.push("Resume")
            if (s.active) out.push("Titrate")
            out.push("End infusion")
        }
        if (p === "Programmed") out.push("Start", "Clear")
        if (p === "Complete") out.push("Clear")
        out.push("Event history", "Lock keys")
    }
    return out
}

/** Field `field` of each element of `list` (syringe brands, care-area names). */
function names(list: any[], field: string): string[] {
    const out: string[] = []
    for (let i = 0; i < list.length; i++) out.push(list[i][field])
    return out
}

// ---- editors ----------------------------------------------------------------------------

/** Opens the value editor `scr` on `value`: a dose (dose, titrate, bolus) on NONE starts at the
 *  library default, the weight on NONE is blank until the first press, the VTBI on NONE is the
 *  whole syringe (its only limit). A dose in mL/h (basic infusion) is bounded by the pump's rates. */
function openEditor(scr: string, value: number) {
    const s = S
    let ent = s.entry
    if ("titrate bolus".indexOf(scr) >= 0) ent = s.activeEntry
    let rule = "dose"
    let limits = ent.dose
    let def = ent.defaultDose
    let unit = ent.doseUnit
    let lo = 10
    let hi = 100000000
    if (scr === "bolus") {
        const b = ent.bolus
        limits = b.dose
        def = b.defaultDose
        unit = b.unit
    } else if (flowOnly(ent)) {
        lo = MIN_RATE_UL_PER_H
        hi = MAX_RATE_UL_PER_H
    }
    if (scr === "weight") {
        rule = scr
        limits = ent.weightG
        lo = 100
        hi = 500000
        unit = 0
    } else if (scr === "vtbi") {
        rule = "volume"
        limits = { hardMin: NONE, softMin: NONE, softMax: NONE, hardMax: NONE }
        lo = 100
        hi = 0
        const sp = findSyringe(s.req.syringeId)
        if (sp) hi = sp.nominalMl * 1000
        if (value === NONE) value = hi
        unit = 0
    } else if (value === NONE) value = firstSet(def, limits.softMin, limits.hardMin, 1000)
    s.editor = { value: value, rule: rule, limits: limits, absMin: lo, absMax: hi, unit: unit, blocked: false }
    go(scr)
}

/** Moves the editor value. Step sizes are decades for doses, so 0.01 steps below 1, 0.1 below
 *  10, 1 below 100 and 10 above (never a trailing-zero-looking jump); weight 0.1 kg below 20 kg,
 *  volume 0.1 mL below 10 mL, else 1. Auto-repeat (`repeating`) stops AT every soft limit it
 *  would cross and waits for a fresh press; nothing ever goes past a hard limit (the reason is shown). */
function nudge(dir: number, mult: number, repeating: boolean) {
    const e = S.editor
    const l = e.limits
    const v = e.value
    // NONE (-1) is below every absMin, so no hard minimum leaves absMin.
    const lo = Math.max(l.hardMin, e.absMin)
    let hi = e.absMax
    if (l.hardMax !== NONE) if (l.hardMax < hi) hi = l.hardMax
    if (v === NONE) {
        // First press on a blank field shows a value; it does not step past one.
        e.value = Math.max(firstSet(l.softMin, l.hardMin, lo, lo), lo)
        return
    }
    // The step at v going up, or just below v going down (so 1 mg goes down in 0.01 mg steps).
    const x = v - (1 - dir) / 2
    let step = 10
    if (e.rule !== "dose") {
        step = 100
        if (x >= 10000) step = 1000
        if (e.rule === "weight") if (x < 20000) step = 100
    } else
        while (step < 10000) {
            if (x < step * 100) break
            step *= 10
        }
    let next = v + dir * step * mult
    if (repeating)
        for (let i = 0; i < 2; i++) {
            let b = l.softMax
            if (i === 0) b = l.softMin
            if (b !== NONE) if ((b - v) * dir > 0) if ((next - b) * dir > 0) {
                next = b
                e.blocked = true
            }
        }
    let c = next
    if (c > hi) c = hi
    else if (c < lo) c = lo
    if (c !== next) {
        e.blocked = true
        if (v === c) S.message = "HARD LIMIT: " + pick(c === hi, "max", "min") + "\n" + valueText(e, c)
    }
    if (e.blocked) if (S.message.length === 0) S.message = "Limit: release key"
    e.value = c
}

function valueText(e: Editor, v: number): string {
    if (v === NONE) return pick(e.rule === "weight", "--- kg", "---")
    if (e.rule === "dose") return doseText(v, e.unit)
    return formatDose(v) + pick(e.rule === "weight", " kg", " mL")
}

function bolusDurationS(e: DrugEntry): number {
    const b = e.bolus
    return firstSet(b.defaultDurationS, b.durationS.softMin, b.durationS.hardMin, 60)
}

// ---- verdicts -----------------------------------------------------------------------------

/** Runs the library check of the program, a titration or a bolus (`what`; null: the check in
 *  progress again, with the excursions confirmed so far) and acts on the verdict. */
function recheck(what: string) {
    const s = S
    const lib = ST.library
    if (what) {
        s.verdictFor = what
        s.confirmed = []
    } else what = s.verdictFor
    let v: DoseResult = null
    // Excursions confirmed when the infusion was programmed stay confirmed (the weight, the
    // concentration; the dose too for a bolus), plus those confirmed now. A new dose is new.
    const kept: string[] = []
    if (what === "program") {
        s.req.confirmed = s.confirmed
        v = programDose(lib, s.req, SINK, NOW)
    } else {
        const before = s.active.confirmed
        // (no excursion is named "")
        const drop = pick(what === "bolus", "", "dose")
        for (let i = 0; i < before.length; i++) if (before[i] !== drop) kept.push(before[i])
        for (let i = 0; i < s.confirmed.length; i++) kept.push(s.confirmed[i])
        if (what === "titrate") v = checkTitration(lib, s.active, s.editor.value, kept, SINK, NOW)
        else v = checkBolus(lib, s.active, s.editor.value, bolusDurationS(s.activeEntry), kept, SINK, NOW)
    }
    s.verdict = v
    if (v.status === "refused") return go("refused")
    if (v.status === "confirm") {
        const x = firstUnconfirmed()
        rec("UI_SOFT_LIMIT", what + ": " + x.field + " " + x.value + " beyond " + x.bound + " " + x.limit + " (" + x.unit + ", thousandths) shown for confirmation")
        return go("soft")
    }
    const pr = v.program
    const c = command(pick(what === "program", "start", what))
    c.program = pr
    c.rateUlPerH = pr.rateUlPerH
    c.bolusUl = pr.bolusUl
    c.bolusDurationS = pr.bolusDurationS
    if (what === "program") {
        s.active = copyRequest(s.req)
        s.activeEntry = s.entry
        s.req = null
        s.origin = "home"
    } else if (what === "titrate") {
        s.active.dose = s.editor.value
        s.active.confirmed = kept
    }
    s.editor = null
    s.verdict = null
    go("run")
}

function firstUnconfirmed(): SoftExcursion {
    const v = S.verdict
    for (let i = 0; i < v.soft.length; i++) if (S.confirmed.indexOf(v.soft[i].field) < 0) return v.soft[i]
    return v.soft[0]
}

// ---- rendering --------------------------------------------------------------------------

function computedRate(r: DoseRequest, e: DrugEntry, dose: number): number {
    if (flowOnly(e)) return dose
    if (!r.concentration) return -1
    if (isPerKg(e.doseUnit)) if (!(r.weightG > 0)) return -1
    return doseToRateUlPerH(e.doseUnit, dose, r.weightG, e.concUnit, r.concentration).value
}

function rateText(ulPerH: number): string {
    if (ulPerH < 0) return "--"
    return formatDose(ulPerH) + " mL/h"
}

/** Weights are in g, durations in s, everything else in thousandths of the unit. */
/** A soft excursion's value or limit with its unit: thousandths of the unit (doses), whole
 *  seconds, or whole grams shown in kg (the weight). */
export function excursionText(x: SoftExcursion, v: number): string {
    if (x.unit === "s") return v + " s"
    return formatDose(v) + " " + pick(x.thousandths, x.unit, "kg")
}

/** The review's values, one a line. */
function reviewLines(): string[] {
    const r = S.req
    const e = S.entry
    const sp = findSyringe(r.syringeId)
    return ("Area " + r.careArea + "\n" + e.drug + (r.concentration ? "\nConc " + concText(r.concentration, e.concUnit) : "")
        + (r.weightG !== NONE ? "\nWeight " + formatDose(r.weightG) + " kg" : "") + (flowOnly(e) ? "" : "\nDose " + doseText(r.dose, e.doseUnit))
        + "\nRate " + rateText(computedRate(r, e, r.dose)) + "\nVTBI " + formatDose(r.vtbiUl) + " mL\n" + (sp ? sp.brand + " " + sp.nominalMl + " mL" : "Syringe ?")).split("\n")
}

/** The screen: each screen is its text with "\n" between rows (data in the string table, not
 *  code), rows 1.. of a list (alarm text, list items, review values, history, reasons) laid over
 *  it, the battery added to a title row, then the alarm, lock and message rows. */
// render's parts with many locals are their own functions: a call allocates its frame on the VM
// heap (8 B a local), and render's ~450 B frame was the allocation that failed in a fragmented
// heap (HIL panel scenarios, 2026-11-30).
function editorRows(): string[] {
    const s = S
    const e = s.editor
    const ed = EDITORS.indexOf(s.screen)
    // Editors: weight 0, dose 7, vtbi 12, titrate 17, bolus 25 (offsets in EDITORS: the dose
    // editors are the two ending in 7); the
    // title by screen and whether the drug is dosed in mL/h (basic infusion).
    let ent = s.entry
    if (ed >= 17) ent = s.activeEntry
    const flow = flowOnly(ent)
    const l = e.limits
    // The usual (soft) range, else the hard one, each bound with its unit.
    const lo = firstSet(l.softMin, l.hardMin, NONE, NONE)
    const hi = firstSet(l.softMax, l.hardMax, NONE, NONE)
    return [lookup("|weight=PATIENT WEIGHT|dose=DOSE|vtbi=VTBI|titrate=NEW DOSE|bolus=BOLUS DOSE|weightflow=PATIENT WEIGHT|doseflow=RATE|vtbiflow=VTBI|titrateflow=NEW DOSE|bolusflow=BOLUS DOSE|", s.screen + pick(flow, "flow", "")), ent.drug, "  " + valueText(e, e.value),
        ed === 25 ? "over " + bolusDurationS(ent) + " s" : ed % 10 === 7 && !flow ? "= " + rateText(computedRate(ed === 7 ? s.req : s.active, ent, e.value)) : "",
        lo !== NONE ? "Low  " + valueText(e, lo) : "",
        hi !== NONE ? "High " + valueText(e, hi) : e.rule === "volume" ? "Max  " + valueText(e, e.absMax) : "",
        "UP/DOWN: change", "START: ok  STOP: back"]
}

function runRows(label: string): string[] {
    const st = ST
    // Running: state, drug and dose, rate, infused of VTBI, time left, pressure bar; the menu item on the last row.
    const pump = st.pump
    const a = S.active
    const ae = S.activeEntry
    const L = [label]
    let drug = "Program (no drug)"
    if (a) if (ae) {
        drug = BASIC_INFUSION
        if (!flowOnly(ae)) {
            // A drug name and dose too long for one row take two.
            const dose = doseText(a.dose, ae.doseUnit)
            drug = a.drug
            if (drug.length + 1 + dose.length <= SCREEN_COLS) drug += " " + dose
            else {
                L.push(drug)
                drug = dose
            }
        }
    }
    let rate = 0
    if (pump.program) rate = pump.program.rateUlPerH
    // "P [####    ] 120 mmHg": line pressure against the occlusion limit (8 cells).
    // Time left as "3 h 47 min" / "12 min".
    let left = "--"
    if (rate > 0) {
        const min = Math.floor((pump.remainingUl * 60) / rate)
        if (min >= 0) left = (min >= 60 ? Math.floor(min / 60) + " h " : "") + (min % 60) + " min"
    }
    let mm = 0
    if (st.pressureMmHg > 0) mm = Math.floor(st.pressureMmHg)
    // Two pushes: one with six arguments needs more temporaries (frame slots).
    L.push(drug, "Rate " + rateText(DLV ? pump.rateUlPerH : rate), formatDose(pump.infusedUl) + " mL of " + formatDose(pump.vtbiUl) + " mL")
    L.push("Left " + left, "P [" + fit("########".slice(0, Math.floor((mm * 8) / (st.pressureLimitMmHg > 0 ? st.pressureLimitMmHg : 1))), 8) + "] " + mm + " mmHg")
    return L
}

function render(): Screen {
    const s = S
    const st = ST
    const scr = s.screen
    let label = lookup(STATE_LABELS, PS)
    if (!label) label = PS.toUpperCase()
    // Rows are built one by one: a whole screen as one string (about 200 B) and its split were
    // the largest allocations of a panel step, and in a fragmented heap the one that failed.
    let L: string[]
    let rows: string[] = []
    // One loop index and one list for every part (a VM frame has a slot per declaration).
    let i = 0
    let list: string[] = null
    let n = 5
    let titled = false
    let inverted = false
    if (OV) {
        const def = findAlarm(st.alarmCode)
        let pr = st.alarmPriority
        let text = st.alarmCode
        if (def) {
            pr = def.priority
            text = def.text
        }
        rows = wrap(text, SCREEN_COLS)
        L = [pr.toUpperCase() + " PRIORITY ALARM", "", "", "", "", "", label, "ACK: silence 2 min"]
        inverted = pr === "high"
    } else if (scr === "oos") L = ["OUT OF SERVICE", pick(st.selfTestOk, "See event log", "Self-test failed"), "Do not use.", "Call biomedical", "engineering."]
    else if (scr === "soft") {
        const x = firstUnconfirmed()
        L = ["SOFT LIMIT", x.field.charAt(0).toUpperCase() + x.field.slice(1) + " " + excursionText(x, x.value), pick(x.bound === "softMax", "is ABOVE soft max", "is BELOW soft min"),
            "(limit " + excursionText(x, x.limit) + ")", "Confirm this value?", "", "START: confirm", "STOP: change value"]
    } else if (scr === "refused") {
        // The checker's reasons print thousandths with three decimals ("30.000 mg"): shown tidied.
        rows = wrap(tidyNumbers(s.verdict.reasons.join("; ")), SCREEN_COLS)
        n = 6
        L = ["NOT ALLOWED", "", "", "", "", "", "", "STOP: change value"]
    } else if (scr === "history") {
        rows = st.history.slice(s.page)
        if (st.history.length === 0) rows.push("(no events)")
        n = 6
        L = ["EVENT HISTORY", "", "", "", "", "", "", "STOP: back"]
    } else {
        titled = true
        if (scr === "home") {
            L = ["PUMP READY", "Self-test: " + pick(st.selfTestOk, "passed", "FAILED"), "No drug library", "", "", "> " + listItems()[s.sel], "UP/DOWN, START: go"]
            if (st.library) {
                L[2] = "Lib: " + st.library.name
                L[3] = "Library v" + st.library.version
            }
        }
        else if (scr === "syringe") {
            L = ["SYRINGE", "> " + SYRINGES[s.sel].brand, "  " + SYRINGES[s.sel].nominalMl + " mL", "Plunger: " + pick(st.plungerEngaged, "engaged", "NOT ENGAGED"), "", "", "START: confirm", "STOP: cancel"]
        } else if ("area drug conc".indexOf(scr) >= 0) {
            L = [lookup("|area=CARE AREA|drug=DRUG (|conc=CONCENTRATION|", scr) + (scr === "drug" ? s.req.careArea + ")" : ""), "", "", "", "", "", scr === "conc" ? s.entry.drug : "", "START: select"]
            list = listItems()
            for (i = Math.max(0, s.sel - 4); i < list.length; i++) rows.push(pick(i === s.sel, "> ", "  ") + list[i])
        } else if (EDITORS.indexOf(scr) >= 0) L = editorRows()
        else if (scr === "review") {
            list = reviewLines()
            rows = list.slice(s.page * REVIEW_PAGE)
            L = ["REVIEW", "", "", "", "", "", "DOWN: more values", "START: next"]
            // The last page: no value below it.
            if ((s.page + 1) * REVIEW_PAGE >= list.length) {
                L[6] = ""
                L[7] = "START: start infusion"
            }
        } else L = runRows(label)
    }
    while (L.length < SCREEN_ROWS) L.push("")
    for (i = 0; i < rows.length; i++) if (i < n) L[1 + i] = rows[i]
    if (!OV) {
        if (scr === "run") {
            list = listItems()
            L[SCREEN_ROWS - 1] = "> " + list[s.sel < list.length ? s.sel : 0]
        }
        if (titled) {
            // Battery as "3.9 V" (truncated: never more charge than there is).
            let bat = "-- V"
            if (st.batteryMv >= 0) bat = formatDose(Math.floor(st.batteryMv / 100) * 100) + " V"
            L[0] = fit(L[0], SCREEN_COLS - bat.length - 1) + " " + bat
        }
        if (st.alarmCode.length > 0) L[0] = fit("!" + st.alarmCode, SCREEN_COLS - 10) + " audio off"
        if (s.locked) L[SCREEN_ROWS - 1] = "LOCKED: UP DOWN UP"
        else if (s.message.length > 0) {
            // The message ends on the row above the key help; a two-line one takes the row above too.
            list = ("! " + s.message).split("\n")
            for (i = 0; i < list.length; i++) L[SCREEN_ROWS - 1 - list.length + i] = list[i]
        }
    }
    // L has exactly SCREEN_ROWS rows (no screen builds more).
    for (i = 0; i < SCREEN_ROWS; i++) L[i] = fit(L[i], SCREEN_COLS)
    return { lines: L, inverted: inverted }
}
