// Alarm manager against IEC 60601-1-8: burst timing inside the standard's limits, lights,
// latching, 2-minute audio pause and its end on a new alarm, highest priority wins.

import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { AlarmCode } from "../../src/core/safety/alarmCodes"
import { AlarmManager, AUDIO_PAUSE_MS, BurstPattern, HIGH_PATTERN, LOW_PATTERN, MEDIUM_PATTERN, pulseOn } from "../../src/core/safety/alarmManager"

/** Gaps between the end of one pulse and the start of the next (ms). */
function gaps(p: BurstPattern): number[] {
    const g: number[] = []
    for (let i = 1; i < p.pulses.length; i++) g.push(p.pulses[i] - (p.pulses[i - 1] + p.pulseMs))
    return g
}

describe("IEC 60601-1-8 burst patterns", () => {
    it("high: 10 pulses, td 75-200 ms, ts 50-125 ms, 3rd->4th = 2ts+td, 5th->6th 350-1300 ms, interburst 2.5-15 s", () => {
        const p = HIGH_PATTERN
        expect(p.pulses.length).toBe(10)
        expect(p.pulseMs).toBeGreaterThanOrEqual(75)
        expect(p.pulseMs).toBeLessThanOrEqual(200)
        const g = gaps(p)
        const ts = g[0]
        for (const i of [0, 1, 3, 5, 6, 8]) {
            expect(g[i]).toBe(ts)
            expect(ts).toBeGreaterThanOrEqual(50)
            expect(ts).toBeLessThanOrEqual(125)
        }
        expect(g[2]).toBe(2 * ts + p.pulseMs)
        expect(g[7]).toBe(2 * ts + p.pulseMs)
        expect(g[4]).toBeGreaterThanOrEqual(350)
        expect(g[4]).toBeLessThanOrEqual(1300)
        const interburst = p.periodMs - (p.pulses[9] + p.pulseMs)
        expect(interburst).toBeGreaterThanOrEqual(2500)
        expect(interburst).toBeLessThanOrEqual(15000)
        expect(p.toneHz).toBeGreaterThanOrEqual(150)
        expect(p.toneHz).toBeLessThanOrEqual(1000)
    })

    it("medium: 3 pulses, td 125-250 ms, ts 125-250 ms, interburst 2.5-30 s", () => {
        const p = MEDIUM_PATTERN
        expect(p.pulses.length).toBe(3)
        expect(p.pulseMs).toBeGreaterThanOrEqual(125)
        expect(p.pulseMs).toBeLessThanOrEqual(250)
        for (const g of gaps(p)) {
            expect(g).toBeGreaterThanOrEqual(125)
            expect(g).toBeLessThanOrEqual(250)
        }
        const interburst = p.periodMs - (p.pulses[2] + p.pulseMs)
        expect(interburst).toBeGreaterThanOrEqual(2500)
        expect(interburst).toBeLessThanOrEqual(30000)
    })

    it("low: 1-2 pulses, td 125-250 ms, interburst > 15 s; each priority has its own tone", () => {
        const p = LOW_PATTERN
        expect(p.pulses.length).toBeGreaterThanOrEqual(1)
        expect(p.pulses.length).toBeLessThanOrEqual(2)
        expect(p.periodMs - (p.pulses[p.pulses.length - 1] + p.pulseMs)).toBeGreaterThan(15000)
        expect(new Set([HIGH_PATTERN.toneHz, MEDIUM_PATTERN.toneHz, LOW_PATTERN.toneHz]).size).toBe(3)
    })

    it("sounds exactly the pulses: count of rising edges per burst = pulse count", () => {
        for (const p of [HIGH_PATTERN, MEDIUM_PATTERN, LOW_PATTERN]) {
            let edges = 0
            let prev = false
            for (let t = 0; t < p.periodMs; t += 10) {
                const on = pulseOn(p, t)
                if (on && !prev) edges++
                prev = on
            }
            expect(edges).toBe(p.pulses.length)
        }
    })
})

function lights(m: AlarmManager, from: number, to: number) {
    let redOn = 0
    let yellowOn = 0
    let n = 0
    for (let t = from; t < to; t += 10) {
        const a = m.annunciation(t)
        if (a.redLed) redOn++
        if (a.yellowLed) yellowOn++
        n++
    }
    return { red: redOn / n, yellow: yellowOn / n }
}

describe("alarm manager", () => {
    it("lights: high red flashing 2 Hz at 50 % duty; medium yellow 0.5 Hz 50 %; low yellow steady", () => {
        const m = new AlarmManager(new EventLog(100))
        m.setCause(0, "DOOR_OPEN", true, "")
        expect(lights(m, 0, 10000).red).toBeCloseTo(0.5, 2)
        expect(m.annunciation(0).redLed).toBe(true)
        expect(m.annunciation(250).redLed).toBe(false) // 2 Hz: off after 250 ms
        const med = new AlarmManager(new EventLog(100))
        med.setCause(0, "BATTERY_LOW", true, "")
        expect(lights(med, 0, 10000).yellow).toBeCloseTo(0.5, 2)
        expect(med.annunciation(1000).yellowLed).toBe(false) // 0.5 Hz: off after 1 s
        const low = new AlarmManager(new EventLog(100))
        low.setCause(0, "LOOP_OVERRUN", true, "")
        expect(lights(low, 0, 10000).yellow).toBe(1)
    })

    it("highest priority wins; among equals the oldest", () => {
        const m = new AlarmManager(new EventLog(100))
        m.setCause(0, "BATTERY_LOW", true, "")
        expect(m.annunciation(10).code).toBe("BATTERY_LOW")
        m.setCause(100, "DOOR_OPEN", true, "")
        m.setCause(200, "AIR_BUBBLE", true, "")
        expect(m.annunciation(300).code).toBe("DOOR_OPEN")
        expect(m.annunciation(300).priority).toBe("high")
        expect(m.annunciation(300).latchedCount).toBe(3)
    })

    it("latches: the cause going away does not clear an unacknowledged alarm", () => {
        const m = new AlarmManager(new EventLog(100))
        m.setCause(0, "DOOR_OPEN", true, "")
        m.setCause(20, "DOOR_OPEN", false, "")
        expect(m.isLatched("DOOR_OPEN")).toBe(true)
        expect(m.acknowledge(40)).toBe(1)
        expect(m.isLatched("DOOR_OPEN")).toBe(false)
    })

    it("audio pause silences for exactly 2 min, lights stay, then sound returns", () => {
        const m = new AlarmManager(new EventLog(100))
        m.setCause(0, "DOOR_OPEN", true, "")
        expect(m.annunciation(0).toneHz).toBe(960)
        expect(m.pauseAudio(5000)).toBe(true)
        // 8000 ms is the start of a burst: silent during the pause, red LED still flashing.
        expect(m.annunciation(8000).toneHz).toBe(0)
        expect(m.annunciation(8000).redLed).toBe(true)
        expect(m.annunciation(8000).audioPaused).toBe(true)
        const end = 5000 + AUDIO_PAUSE_MS
        expect(AUDIO_PAUSE_MS).toBe(120000)
        // First burst start after the pause ends: 128000 = 16·8000.
        expect(m.annunciation(end - 1).audioPaused).toBe(true)
        expect(m.annunciation(128000).toneHz).toBe(960)
        expect(m.annunciation(128000).audioPaused).toBe(false)
    })

    it("a new alarm during the audio pause ends the pause at once (escalation)", () => {
        const m = new AlarmManager(new EventLog(100))
        m.setCause(0, "BATTERY_LOW", true, "")
        m.pauseAudio(100)
        expect(m.annunciation(10000).toneHz).toBe(0)
        m.setCause(20000, "DOOR_OPEN", true, "")
        expect(m.annunciation(20000).toneHz).toBe(960)
        expect(m.annunciation(20000).audioPaused).toBe(false)
    })

    it("audio pause is refused with nothing latched; unknown codes are logged", () => {
        const log = new EventLog(100)
        const m = new AlarmManager(log)
        expect(m.pauseAudio(0)).toBe(false)
        // A code from outside the catalogue (e.g. restored from storage) is cast in deliberately.
        m.setCause(0, "NOPE" as AlarmCode, true, "")
        expect(log.ofKind("ALARM_UNKNOWN").length).toBe(1)
    })
})
