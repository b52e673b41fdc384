// Air-in-line in the closed loop: bubbles of known volume pass the detector 47 µL downstream of
// the syringe; the firmware sizes them from the steps pumped while air is seen.

import { describe, expect, it } from "vitest"
import { AIR_DEFAULTS, AirDetector, validateAirConfig } from "../../src/core/safety/air"
import { CONTROL_PERIOD_MS } from "../../src/core/pump"
import { ClosedLoop, programAt } from "../../hil-tests/host/closedLoop"
import { createPlant } from "../../hil-tests/plant/index"

function bubbleRun(rate: number, threshold: number, bubbleUl: number) {
    const plant = createPlant({ seed: 9, artefactMeanIntervalS: 0 })
    const loop = new ClosedLoop({ plant, program: programAt(rate), safety: { air: { ...AIR_DEFAULTS, singleBubbleUl: threshold } } })
    loop.runFor(120000)
    plant.injectBubble(bubbleUl)
    // Transit 47 µL + bubble + window at rate: wait for all of it plus a margin.
    const passS = ((47 + bubbleUl + 2.4) / (rate / 3600)) * 1.5 + 10
    loop.runFor(passS * 1000, l => l.alarmLatched("AIR_BUBBLE"))
    const alarmed = loop.alarmLatched("AIR_BUBBLE")
    loop.runFor(60000)
    return { alarmed, loop, plant }
}

describe("single bubble over the 50-250 µL range", () => {
    for (const rate of [5000, 100000]) {
        for (const thr of [50, 100, 250]) {
            it(`${rate / 1000} mL/h, limit ${thr} µL: 1.2× alarms and never reaches the patient; 0.8× does not alarm`, () => {
                const big = bubbleRun(rate, thr, thr * 1.2)
                expect(big.alarmed).toBe(true)
                expect(big.loop.pump.state()).toBe("Alarm")
                expect(big.plant.truth().airDeliveredUl).toBe(0)
                const small = bubbleRun(rate, thr, thr * 0.8)
                expect(small.alarmed).toBe(false)
                expect(small.loop.monitor.alarms.latchedCount()).toBe(0)
            })
        }
    }

    it("the limit must be 50..250 µL (and the monitor refuses anything else)", () => {
        expect(validateAirConfig({ ...AIR_DEFAULTS, singleBubbleUl: 49 })).not.toBe("")
        expect(validateAirConfig({ ...AIR_DEFAULTS, singleBubbleUl: 251 })).not.toBe("")
        expect(validateAirConfig({ ...AIR_DEFAULTS, singleBubbleUl: 50 })).toBe("")
        expect(() => new ClosedLoop({ plant: createPlant(), safety: { air: { ...AIR_DEFAULTS, singleBubbleUl: 300 } } })).toThrow(/50..250/)
    })
})

describe("cumulative air: > 1 mL in any rolling 15 min", () => {
    it("40 µL bubbles every 25 s alarm once the 15 min sum passes 1000 µL (the 25th-26th bubble)", () => {
        const plant = createPlant({ seed: 10, artefactMeanIntervalS: 0 })
        const loop = new ClosedLoop({ plant, program: programAt(25000), safety: { air: { ...AIR_DEFAULTS, singleBubbleUl: 50 } } })
        loop.runFor(60000)
        // Sizing error is ~±10 % (flow varies with breathing and seal friction), so bubbles are
        // 20 % under the single-bubble limit.
        let injected = 0
        for (let k = 0; k < 40; k++) {
            plant.injectBubble(40)
            injected++
            if (loop.runFor(25000, l => l.monitor.alarms.latchedCount() > 0)) break
        }
        expect(loop.monitor.alarms.latchedCodes()).toEqual(["AIR_CUMULATIVE"])
        // 1000/40 = 25: the 26th bubble crosses the limit (±1 for the sizing error).
        expect(injected).toBeGreaterThanOrEqual(24)
        expect(injected).toBeLessThanOrEqual(27)
        expect(loop.pump.state()).toBe("Alarm")
    })

    it("40 µL every 60 s (600 µL per 15 min) never alarms over 1 h", () => {
        const plant = createPlant({ seed: 11, artefactMeanIntervalS: 0 })
        const loop = new ClosedLoop({ plant, program: programAt(25000), safety: { air: { ...AIR_DEFAULTS, singleBubbleUl: 50 } } })
        for (let k = 0; k < 60; k++) {
            plant.injectBubble(40)
            expect(loop.runFor(60000, l => l.monitor.alarms.latchedCount() > 0)).toBe(false)
        }
    })

    // Sampled once a control period, a bubble is seen for a whole number of ticks; at 1200 mL/h
    // and 100 ms one tick moves 33.3 µL. Counting the tick whose sample finds the air gone means
    // the counted volume covers the whole passage: 1.2 x the 50 µL limit alarms at every phase.
    it("1200 mL/h, limit 50 µL: a 60 µL bubble alarms whatever its phase against the ticks", () => {
        const tickUl = (1200000 / 3600000) * CONTROL_PERIOD_MS // µL pumped per tick
        const B = 60
        for (let phase = 0; phase < 1; phase += 0.05) {
            const d = new AirDetector({ ...AIR_DEFAULTS, singleBubbleUl: 50 })
            const frontUl = 1000 + phase * tickUl // pumped volume when the front reaches the sensor
            let alarmed = false
            for (let k = 1; k * tickUl < frontUl + B + AIR_DEFAULTS.windowUl + 3 * tickUl; k++) {
                const v = k * tickUl
                const seen = v >= frontUl && v < frontUl + B + AIR_DEFAULTS.windowUl
                if (d.update(k * CONTROL_PERIOD_MS, seen, tickUl).single) alarmed = true
            }
            expect(alarmed, "phase " + phase.toFixed(2)).toBe(true)
        }
    })

    it("the rolling window forgets air older than 15 min (detector unit, exact volumes)", () => {
        const d = new AirDetector(AIR_DEFAULTS)
        let t = 0
        const bubble = (ul: number) => {
            // 1 µL per tick while air is seen, + the 2.4 µL window.
            for (let i = 0; i < ul + 2.4; i++) d.update((t += 20), true, 1)
            return d.update((t += 20), false, 1)
        }
        for (let k = 0; k < 9; k++) expect(bubble(100).cumulative).toBe(false) // 900 µL
        t += 900001 // all of it now older than 15 min
        // 103 ticks of 1 µL with air seen, + the tick whose sample saw it gone (the tail left
        // during it), minus the 2.4 µL window = 101.6 µL.
        expect(bubble(100).windowTotalUl).toBeCloseTo(101.6, 6)
        expect(d.update((t += 20), false, 1).cumulative).toBe(false)
    })
})
