// Front-panel timelines: press keys, let time pass, expect the screen and the pump. Expected
// numbers come from the drug library's limits and the dose arithmetic worked by hand, e.g.
// dopamine 5 mcg/kg/min x 70 kg x 60 min/h / 1600 mcg/mL = 13.125 mL/h.

import { describe, expect, it } from "vitest"
import { NONE } from "../../src/core/druglib/model"
import { compileSource } from "../../tools/druglib/compile"
import { doseText, formatDose, tidyNumbers } from "../../src/core/ui/format"
import { PROGRAM_TIMEOUT_MS, REPEAT_DELAY_MS, REPEAT_FAST_AFTER, REPEAT_PERIOD_MS, VIEW_GUARD_MS, excursionText } from "../../src/core/ui/panel"
import { AUDIO_PAUSE_MS } from "../../src/core/safety/alarmManager"
import { testSource } from "../druglib/fixture"
import { Bench, numberProblems, sampleLibrary } from "./bench"

const LIB = sampleLibrary()
// Sample library order: syringe table index 4 = BD Plastipak 50 mL; ICU drugs Heparin, Insulin
// regular, Dopamine...; areas ICU, Med-Surg, Pediatrics, Oncology.

function upUntil(b: Bench, text: string, max = 200) {
    for (let i = 0; i < max && !b.has(text); i++) b.press("up")
    expect(b.text()).toContain(text)
}

/** New infusion -> syringe 50 mL -> ICU -> drug at `drugIndex` -> first concentration. */
function toConcentration(b: Bench, area: number, drugIndex: number) {
    b.press("start").press("down", 4).press("start")
    b.press("down", area).press("start")
    b.press("down", drugIndex).press("start")
}

/** Dopamine 400 mg/250 mL, `kg`, dose raised `up` presses from the library default 5. */
function programDopamine(b: Bench, kg: number, doseText: string) {
    toConcentration(b, 0, 2)
    expect(b.text()).toContain("> 400 mg/250 mL")
    b.press("start")
    b.press("up")
    upUntil(b, "  " + kg + " kg")
    b.press("start")
    if (doseText !== "5 mcg/kg/min") upUntil(b, "  " + doseText)
    b.press("start") // dose
    b.press("start") // VTBI 50 mL
}

function startReviewed(b: Bench) {
    b.press("start") // page 1 -> page 2
    b.press("start") // start infusion
    b.advance(200)
}

describe("number formatting (ISMP)", () => {
    it("leading zero, no trailing zero, exact thousandths", () => {
        expect(formatDose(500)).toBe("0.5")
        expect(formatDose(10)).toBe("0.01")
        expect(formatDose(5000)).toBe("5")
        expect(formatDose(13125)).toBe("13.125")
        expect(formatDose(26250)).toBe("26.25")
        expect(doseText(5000, 0x33)).toBe("5 mcg/kg/min")
    })
    it("trailing zeros go from every decimal in a checker reason; whole numbers and other points stay", () => {
        expect(tidyNumbers("dose 30.000 mg in 240 min; limit 0.500 mL, 100.050 x, 5.0.")).toBe("dose 30 mg in 240 min; limit 0.5 mL, 100.05 x, 5.")
        expect(tidyNumbers("100 units, v1.2.3, .5")).toBe("100 units, v1.2.3, .5")
        expect(formatDose(-1500)).toBe("-1.5")
        expect(formatDose(0)).toBe("0")
        expect(formatDose(100000)).toBe("100")
    })
    it("the checker flags a missing unit, a bare decimal point and a trailing zero", () => {
        expect(numberProblems(["Rate 5 mL/h"])).toEqual([])
        expect(numberProblems(["Rate 5"]).length).toBe(1)
        expect(numberProblems(["Dose .5 mg/h"]).length).toBe(1)
        expect(numberProblems(["Dose 5.0 mg/h"]).length).toBe(1)
    })
})

describe("home and syringe", () => {
    it("home shows self-test result, library name and version, battery", () => {
        const b = new Bench(LIB)
        expect(b.screen.lines[0]).toBe("PUMP READY      3.9 V")
        expect(b.text()).toContain("Self-test: passed")
        expect(b.text()).toContain("Lib: Reference Hospit")
        expect(b.text()).toContain("Library v1")
    })

    it("a failed self-test shows Out of Service and no programming", () => {
        const b = new Bench(LIB)
        b.pump.setOutOfService(0, "buzzer open circuit")
        b.press("start")
        expect(b.text()).toContain("OUT OF SERVICE")
        expect(b.ui.screen).toBe("oos")
    })

    it("without a drug library nothing can be programmed", () => {
        const b = new Bench(null)
        expect(b.text()).toContain("No drug library")
        b.press("start")
        expect(b.ui.screen).toBe("home")
        expect(b.text()).toContain("! No drug library")
    })

    it("syringe: brand and size from the syringe table; refused while the plunger is not engaged", () => {
        const b = new Bench(LIB)
        b.press("start").press("down", 4)
        expect(b.text()).toContain("> BD Plastipak")
        expect(b.text()).toContain("  50 mL")
        b.plunger = false
        b.press("start")
        expect(b.text()).toContain("Plunger: NOT ENGAGED")
        expect(b.text()).toContain("! Plunger not engaged")
        expect(b.ui.screen).toBe("syringe")
        b.plunger = true
        b.press("start")
        expect(b.ui.screen).toBe("area")
    })
})

describe("programming from the library", () => {
    it("dopamine 5 mcg/kg/min for 70 kg: computed rate 13.125 mL/h shown, every value reviewed, then it runs", () => {
        const b = new Bench(LIB)
        programDopamine(b, 70, "5 mcg/kg/min")
        expect(b.ui.screen).toBe("review")
        expect(b.screen.lines.slice(1, 6)).toEqual(["Area ICU             ", "Dopamine             ", "Conc 400 mg/250 mL   ", "Weight 70 kg         ", "Dose 5 mcg/kg/min    "])
        expect(b.pump.state()).toBe("Idle") // nothing sent before START on the last page
        b.press("start")
        expect(b.screen.lines.slice(1, 4)).toEqual(["Rate 13.125 mL/h     ", "VTBI 50 mL           ", "BD Plastipak 50 mL   "])
        b.press("start")
        b.advance(200)
        expect(b.pump.state()).toBe("Running")
        expect(b.pump.status().program.rateUlPerH).toBe(13125)
        expect(b.log.ofKind("DERS_PROGRAM").length).toBe(1)
        b.advance(60000)
        // 13.125 mL/h for 60 s = 0.21875 mL; the screen shows what the pump counted.
        expect(b.text()).toContain("Dopamine 5 mcg/kg/min")
        expect(b.text()).toContain("Rate 13.125 mL/h")
        expect(b.pump.status().infusedUl).toBeGreaterThan(200)
        expect(b.text()).toContain(formatDose(b.pump.status().infusedUl) + " mL of 50 mL")
        expect(b.text()).toMatch(/Left 3 h 4\d min/) // 50 mL / 13.125 mL/h = 3 h 48.6 min
        expect(b.text()).toContain(" mmHg")
    })

    it("the dose screen shows the computed rate as the dose changes", () => {
        const b = new Bench(LIB)
        toConcentration(b, 0, 2)
        b.press("start").press("up")
        upUntil(b, "  70 kg")
        b.press("start")
        expect(b.text()).toContain("= 13.125 mL/h")
        b.press("up") // doses below 10 step by 0.1
        expect(b.text()).toContain("  5.1 mcg/kg/min")
        upUntil(b, "  6 mcg/kg/min") // 6 mcg/kg/min x 70 x 60 / 1600 = 15.75 mL/h
        expect(b.text()).toContain("= 15.75 mL/h")
        expect(b.text()).toContain("Low  2 mcg/kg/min")
        expect(b.text()).toContain("High 15 mcg/kg/min")
    })

    it("soft limit: its own confirmation screen; STOP changes the value, START confirms and is logged", () => {
        const b = new Bench(LIB)
        programDopamine(b, 70, "16 mcg/kg/min")
        startReviewed(b)
        expect(b.ui.screen).toBe("soft")
        expect(b.text()).toContain("Dose 16 mcg/kg/min")
        expect(b.text()).toContain("is ABOVE soft max")
        expect(b.text()).toContain("(limit 15 mcg/kg/min)")
        expect(b.log.ofKind("UI_SOFT_LIMIT").length).toBe(1)
        expect(b.pump.state()).toBe("Idle")
        b.press("stop")
        expect(b.ui.screen).toBe("dose")
        expect(b.text()).toContain("  16 mcg/kg/min")
        b.press("start").press("start").press("start").press("start")
        expect(b.ui.screen).toBe("soft")
        b.press("start")
        b.advance(200)
        expect(b.pump.state()).toBe("Running")
        expect(b.pump.status().program.rateUlPerH).toBe(42000) // 16 x 70 x 60 / 1600 mL/h
        expect(b.log.ofKind("DERS_OVERRIDE")[0].detail).toContain("dose=16.000 mcg/kg/min beyond softMax 15.000")
    })

    it("soft-limit screen units: a 5 g dose reads 5 g (thousandths of g), a 70,000 g weight reads 70 kg, 90 s reads 90 s", () => {
        const x = (unit: string, thousandths: boolean) => ({ field: "bolus", bound: "softMax", limit: 0, value: 0, unit: unit, thousandths: thousandths })
        expect(excursionText(x("g", true), 5000)).toBe("5 g")
        expect(excursionText(x("g", false), 70000)).toBe("70 kg")
        expect(excursionText(x("s", false), 90)).toBe("90 s")
    })

    it("hard limit: the dose stops at the hard maximum 20 mcg/kg/min with the reason shown", () => {
        const b = new Bench(LIB)
        toConcentration(b, 0, 2)
        b.press("start").press("up")
        upUntil(b, "  70 kg")
        b.press("start")
        upUntil(b, "  20 mcg/kg/min")
        b.press("up")
        expect(b.text()).toContain("  20 mcg/kg/min")
        expect(b.screen.lines.slice(5, 7)).toEqual(["! HARD LIMIT: max    ", "20 mcg/kg/min        "])
        expect(b.ui.editor!.value).toBe(20000)
    })

    it("hard limit from the checker: a dose window breach is refused with the library's reason", () => {
        // Med-Surg morphine 50 mg/50 mL, limit 30 mg per 240 min; 10 mg/h for 4 h = 40 mg.
        const b = new Bench(LIB)
        toConcentration(b, 1, 2)
        expect(b.text()).toContain("Morphine")
        b.press("start")
        for (let i = 0; i < 8 && !b.has("  10 mg/h"); i++) b.hold("up", 3000)
        expect(b.text()).toContain("  10 mg/h")
        b.press("start").press("start")
        startReviewed(b)
        expect(b.ui.screen).toBe("refused")
        expect(b.text()).toContain("NOT ALLOWED")
        expect(b.text()).toContain("40 mg in 240 min;")
        expect(b.text()).toContain("limit is 30 mg per")
        expect(b.pump.state()).toBe("Idle")
        expect(b.log.ofKind("DERS_REFUSED").length).toBe(1)
        b.press("stop")
        expect(b.ui.screen).toBe("dose")
    })

    it("basic mL/h mode is offered because the library gives the area flow limits, and is logged", () => {
        const b = new Bench(LIB)
        b.press("start").press("down", 4).press("start").press("start")
        b.press("up") // the list wraps: the last item is the basic infusion
        expect(b.text()).toContain("> Basic infusion")
        b.press("start")
        expect(b.log.ofKind("UI_BASIC_MODE").length).toBe(1)
        expect(b.ui.screen).toBe("dose")
        expect(b.text()).toContain("RATE")
        expect(b.text()).toContain("High 200 mL/h") // sample library basic soft max
        upUntil(b, "  10 mL/h")
        b.press("start").press("start")
        startReviewed(b)
        expect(b.pump.status().program.rateUlPerH).toBe(10000)
        expect(b.log.ofKind("DERS_PROGRAM")[0].detail).toContain("drug=Basic infusion")
    })

    it("basic mode is not offered when the library gives no flow limit for it", () => {
        const lib = sampleLibrary()
        lib.careAreas[0].basicRateUlPerH = { hardMin: NONE, softMin: NONE, softMax: NONE, hardMax: NONE }
        const b = new Bench(lib)
        b.press("start").press("down", 4).press("start").press("start").press("up")
        expect(b.text()).not.toContain("Basic infusion")
    })

    it("drug names are shown exactly as the library spells them (Tall Man lettering)", () => {
        const src = testSource()
        src.careAreas[0].entries[0].drug = "DOPamine"
        src.careAreas[0].entries.push({ ...src.careAreas[0].entries[0], drug: "DOBUTamine" })
        const r = compileSource(src)
        const b = new Bench(r.library!)
        b.press("start").press("down", 4).press("start").press("start")
        expect(b.text()).toContain("> DOPamine")
        expect(b.text()).toContain("  DOBUTamine")
    })
})

describe("auto-repeat", () => {
    it("accelerates x10 after the single-step repeats, stops at the soft limit until a fresh press, never passes the hard limit", () => {
        const b = new Bench(LIB)
        toConcentration(b, 0, 2)
        b.press("start")
        expect(b.text()).toContain("  --- kg") // no default weight
        b.press("up")
        expect(b.text()).toContain("  40 kg") // soft minimum shown first
        // press = +1 kg; after REPEAT_DELAY_MS one repeat every REPEAT_PERIOD_MS: 8 single steps, then 10 kg.
        const singleEndMs = REPEAT_DELAY_MS + (REPEAT_FAST_AFTER - 1) * REPEAT_PERIOD_MS
        b.hold("up", singleEndMs + 50)
        expect(b.text()).toContain("  " + (40 + 1 + REPEAT_FAST_AFTER) + " kg")
        b.hold("up", singleEndMs + REPEAT_PERIOD_MS + 50)
        expect(b.text()).toContain("  " + (49 + 1 + REPEAT_FAST_AFTER + 10) + " kg") // 68 kg
        b.hold("up", 20000)
        expect(b.text()).toContain("  150 kg") // soft maximum: held key stops here
        b.press("up")
        expect(b.text()).toContain("  151 kg") // a fresh press goes past
        b.hold("up", 20000)
        expect(b.text()).toContain("  250 kg") // hard maximum
        b.press("up")
        expect(b.text()).toContain("  250 kg")
        expect(b.screen.lines.slice(5, 7)).toEqual(["! HARD LIMIT: max    ", "250 kg               "])
    })
})

function runningDopamine(): Bench {
    const b = new Bench(LIB)
    programDopamine(b, 70, "5 mcg/kg/min")
    startReviewed(b)
    expect(b.pump.state()).toBe("Running")
    return b
}

describe("running: titration, bolus, pause, stop, clear", () => {
    it("titration with the same limit checks: 10 mcg/kg/min = 26.25 mL/h, logged", () => {
        const b = runningDopamine()
        expect(b.text()).toContain("> Titrate")
        b.press("start")
        expect(b.text()).toContain("NEW DOSE")
        upUntil(b, "  10 mcg/kg/min")
        expect(b.text()).toContain("= 26.25 mL/h")
        expect(b.pump.status().program.rateUlPerH).toBe(13125) // unchanged until START
        b.press("start")
        b.advance(200)
        expect(b.pump.status().program.rateUlPerH).toBe(26250)
        expect(b.log.ofKind("DERS_TITRATE").length).toBe(1)
        expect(b.screen.lines.slice(1, 3)).toEqual(["Dopamine             ", "10 mcg/kg/min        "])
    })

    it("titration past the soft limit needs confirmation; past the hard limit is impossible", () => {
        const b = runningDopamine()
        b.press("start")
        upUntil(b, "  16 mcg/kg/min")
        b.press("start")
        expect(b.ui.screen).toBe("soft")
        expect(b.pump.status().program.rateUlPerH).toBe(13125)
        b.press("start")
        b.advance(200)
        expect(b.pump.status().program.rateUlPerH).toBe(42000)
        b.press("start")
        upUntil(b, "  20 mcg/kg/min")
        b.press("up")
        expect(b.screen.lines.slice(5, 7)).toEqual(["! HARD LIMIT: max    ", "20 mcg/kg/min        "])
    })

    it("heparin bolus 40 units/kg at 80 kg, 25000 units/50 mL = 6.4 mL over 60 s; above 100 units/kg refused", () => {
        const b = new Bench(LIB)
        toConcentration(b, 0, 0)
        b.press("down") // 25000 units/50 mL
        expect(b.text()).toContain("> 25000 units/50 mL")
        b.press("start").press("up")
        upUntil(b, "  80 kg")
        b.press("start").press("start").press("start")
        startReviewed(b)
        expect(b.pump.state()).toBe("Running")
        b.press("down")
        expect(b.text()).toContain("> Bolus")
        b.press("start")
        expect(b.text()).toContain("  40 units/kg")
        expect(b.text()).toContain("over 60 s")
        b.hold("up", 20000)
        expect(b.text()).toContain("  80 units/kg") // soft max stops the held key
        b.hold("up", 20000)
        expect(b.text()).toContain("  100 units/kg")
        b.press("up")
        expect(b.screen.lines.slice(5, 7)).toEqual(["! HARD LIMIT: max    ", "100 units/kg         "])
        b.press("stop")
        b.press("down").press("start")
        b.press("start") // 40 units/kg
        b.advance(61000)
        expect(b.pump.status().bolusUl).toBeGreaterThanOrEqual(6390)
        expect(b.pump.status().bolusUl).toBeLessThanOrEqual(6410)
        expect(b.log.ofKind("DERS_BOLUS").length).toBe(1)
        expect(b.pump.state()).toBe("Running")
    })

    it("STOP pauses at once; Resume; STOP while paused ends the infusion; Clear returns home", () => {
        const b = runningDopamine()
        b.press("stop")
        expect(b.pump.state()).toBe("Paused")
        expect(b.text()).toContain("PAUSED")
        expect(b.text()).toContain("> Resume")
        b.press("start")
        expect(b.pump.state()).toBe("Running")
        b.press("stop").press("stop")
        expect(b.pump.state()).toBe("Programmed")
        expect(b.text()).toContain("READY TO START")
        b.press("down") // Start, Clear
        expect(b.text()).toContain("> Clear")
        b.press("start")
        b.advance(200)
        expect(b.pump.state()).toBe("Idle")
        expect(b.ui.screen).toBe("home")
    })

    it("event history lists the newest record first", () => {
        const b = runningDopamine()
        b.press("down", 2)
        expect(b.text()).toContain("> Event history")
        b.press("start")
        expect(b.text()).toContain("EVENT HISTORY")
        const newest = b.log.all().slice(-1)[0]
        expect(b.screen.lines[1]).toBe((newest.kind + " " + newest.detail).slice(0, 21))
        b.press("stop")
        expect(b.ui.screen).toBe("run")
    })
})

describe("alarms", () => {
    it("high priority: inverted overlay with the catalogue text; ACK pauses audio for 2 min; cleared when the cause goes", () => {
        const b = runningDopamine()
        b.door = true
        b.advance(100)
        expect(b.pump.state()).toBe("Alarm")
        expect(b.screen.inverted).toBe(true)
        expect(b.screen.lines[0]).toBe("HIGH PRIORITY ALARM  ")
        expect(b.text()).toContain("Syringe door open")
        expect(b.text()).toContain("ACK: silence 2 min")
        const before = b.ui.screen
        b.press("up").press("start")
        expect(b.ui.screen).toBe(before) // the overlay takes the keys
        b.press("ack")
        expect(b.log.ofKind("AUDIO_PAUSE").length).toBe(1)
        const tAck = b.log.ofKind("AUDIO_PAUSE")[0].timeMs
        expect(b.screen.inverted).toBe(false)
        expect(b.screen.lines[0]).toContain("!DOOR_OPEN")
        b.advance(tAck + AUDIO_PAUSE_MS - 200 - b.t)
        expect(b.monitor.annunciation(b.t).audioPaused).toBe(true)
        b.advance(300)
        expect(b.log.ofKind("AUDIO_PAUSE_END").length).toBe(1)
        expect(b.screen.inverted).toBe(true) // the overlay returns with the sound
        b.door = false
        b.advance(200)
        b.press("ack")
        b.advance(200)
        expect(b.pump.state()).toBe("Paused")
        expect(b.screen.inverted).toBe(false)
        expect(b.text()).toContain("PAUSED")
    })

    it("medium priority is not inverted", () => {
        const b = runningDopamine()
        b.batteryMv = 3500
        // The battery level is read every 10 s (issue 16): BATTERY_LOW within 10 s + one period.
        b.advance(10_000 + 100)
        expect(b.text()).toContain("MEDIUM PRIORITY ALARM")
        expect(b.text()).toContain("Battery low")
        expect(b.screen.inverted).toBe(false)
        expect(b.pump.state()).toBe("Running")
    })
})

describe("use-error defences", () => {
    it("an unfinished program times out back home and nothing reaches the pump", () => {
        const b = new Bench(LIB)
        programDopamine(b, 70, "5 mcg/kg/min")
        expect(b.ui.screen).toBe("review")
        b.advance(PROGRAM_TIMEOUT_MS - 1000)
        expect(b.ui.screen).toBe("review")
        b.advance(1000)
        expect(b.ui.screen).toBe("home")
        expect(b.log.ofKind("UI_TIMEOUT").length).toBe(1)
        expect(b.pump.state()).toBe("Idle")
        expect(b.commands.length).toBe(0)
    })

    it("an unfinished titration times out back to the running screen with the rate unchanged", () => {
        const b = runningDopamine()
        b.press("start")
        b.press("up", 3)
        b.advance(PROGRAM_TIMEOUT_MS)
        expect(b.ui.screen).toBe("run")
        expect(b.pump.status().program.rateUlPerH).toBe(13125)
    })

    it("a key within the view guard of a screen change is ignored (a double press does not start the infusion)", () => {
        const b = new Bench(LIB)
        programDopamine(b, 70, "5 mcg/kg/min")
        b.advance(400)
        b.step("press", "start") // page 1 -> page 2
        b.step("release", "start")
        b.advance(VIEW_GUARD_MS - 100)
        b.step("press", "start") // aimed at page 1; page 2 was on screen for less than the guard
        b.step("release", "start")
        b.advance(200)
        expect(b.ui.screen).toBe("review")
        expect(b.pump.state()).toBe("Idle")
    })

    it("keypad lock: value keys do nothing, STOP still pauses, UP DOWN UP unlocks; both logged", () => {
        const b = runningDopamine()
        b.press("down", 3)
        expect(b.text()).toContain("> Lock keys")
        b.press("start")
        expect(b.text()).toContain("LOCKED: UP DOWN UP")
        b.press("start") // would open Titrate if unlocked
        expect(b.ui.screen).toBe("run")
        b.press("stop")
        expect(b.pump.state()).toBe("Paused")
        b.press("up").press("down").press("up")
        expect(b.text()).not.toContain("LOCKED")
        expect(b.log.ofKind("UI_LOCK").length).toBe(1)
        expect(b.log.ofKind("UI_UNLOCK").length).toBe(1)
    })

    it("every number on every screen of these flows has a unit, a leading zero and no trailing zero", () => {
        const b = runningDopamine()
        b.press("start")
        upUntil(b, "  16 mcg/kg/min")
        b.press("start").press("start")
        b.door = true
        b.advance(200)
        const lines = b.screens.filter(s => true).flatMap(s => s.lines)
        expect(lines.length).toBeGreaterThan(500)
        expect(numberProblems(lines)).toEqual([])
    })
})

describe("no value changes behind the screen", () => {
    it("a key held on the soft-limit screen does not change the titration value behind it", () => {
        const b = runningDopamine()
        b.press("start")
        upUntil(b, "  16 mcg/kg/min")
        b.press("start")
        expect(b.ui.screen).toBe("soft")
        b.hold("up", 3000) // 600 ms delay + 12 repeats if auto-repeat ran here
        expect(b.ui.screen).toBe("soft")
        b.press("stop")
        expect(b.ui.screen).toBe("titrate")
        expect(b.text()).toContain("  16 mcg/kg/min")
        expect(b.ui.editor!.value).toBe(16000)
    })

    it("STOP on the VTBI screen returns to the dose entered, not the library default", () => {
        const b = new Bench(LIB)
        toConcentration(b, 0, 2)
        b.press("start").press("up")
        upUntil(b, "  70 kg")
        b.press("start")
        upUntil(b, "  6 mcg/kg/min")
        b.press("start")
        expect(b.ui.screen).toBe("vtbi")
        b.press("stop")
        expect(b.ui.screen).toBe("dose")
        expect(b.text()).toContain("  6 mcg/kg/min")
    })

    it("a drug library withdrawn mid-program discards the program: back home, nothing sent", () => {
        const b = new Bench(LIB)
        toConcentration(b, 0, 2)
        expect(b.ui.screen).toBe("conc")
        b.lib = null
        b.advance(200)
        expect(b.ui.screen).toBe("home")
        expect(b.text()).toContain("No drug library")
        expect(b.commands.length).toBe(0)
        expect(b.pump.state()).toBe("Idle")
    })
})

describe("STOP", () => {
    it("on a titration STOP cancels back to the running screen without pausing; a second STOP pauses", () => {
        const b = runningDopamine()
        b.press("start")
        expect(b.ui.screen).toBe("titrate")
        b.press("stop")
        expect(b.ui.screen).toBe("run")
        expect(b.pump.state()).toBe("Running")
        b.press("stop")
        expect(b.pump.state()).toBe("Paused")
    })
})
