// Plant: upstream occlusion (clamp between syringe and pressure disc) and the sensor wiring
// faults, checked against hand-computed values (hil-tests/plant/plant.ts).

import { describe, expect, it } from "vitest"
import { createPlant } from "../../hil-tests/plant"

const quiet = { artefactMeanIntervalS: 0, postureMeanIntervalS: 0, respirationMmHg: 0, seed: 1 }
const STEP_UL = 0.173531 // BD 50 mL, 3200 µsteps/mm

function drive(p: ReturnType<typeof createPlant>, rateUlPerH: number, ms: number) {
    const sps = rateUlPerH / 3600 / STEP_UL
    let acc = 0
    for (let t = 0; t < ms; t += 20) {
        acc += sps * 0.02
        const n = Math.floor(acc)
        acc -= n
        p.advance(20, { steps: n, motorEnabled: true })
    }
}

describe("upstream occlusion", () => {
    it("the syringe alone takes the volume; the disc sees the line drain to venous pressure", () => {
        const p = createPlant(quiet)
        drive(p, 25000, 60000) // steady flow first
        const flowing = p.truth().linePressureMmHg
        expect(flowing).toBeCloseTo(7 + (25000 / 3600) * 1.1, 0) // venous + Q·R
        const d0 = p.truth().deliveredUl
        p.setUpstreamOcclusion(true)
        drive(p, 25000, 60000)
        // 60 s x 6.94 µL/s = 417 µL into the syringe's 2.5 µL/mmHg: about +165 mmHg there
        // (less the drive-train share); nothing reaches the patient beyond the line's drain.
        expect(p.syringePressureMmHg()).toBeGreaterThan(120)
        expect(p.syringePressureMmHg()).toBeLessThan(170)
        expect(p.truth().linePressureMmHg).toBeCloseTo(7, 0)
        // The line compliance (2 µL/mmHg) drains its 7.6 mmHg: 15 µL, no more.
        expect(p.truth().deliveredUl - d0).toBeLessThan(16)
    })

    it("releasing the clamp delivers the stored volume as a bolus", () => {
        const p = createPlant(quiet)
        drive(p, 25000, 30000)
        p.setUpstreamOcclusion(true)
        drive(p, 25000, 60000)
        const stored = p.syringePressureMmHg() * 2.5 // µL above the line at venous
        const d0 = p.truth().deliveredUl
        p.setUpstreamOcclusion(false)
        p.advance(20000, { steps: 0, motorEnabled: true }) // RC = 1.1 x 4.5 = 5 s: 4 time constants
        expect(p.truth().deliveredUl - d0).toBeGreaterThan(0.9 * stored)
    })
})

describe("sensor wiring faults", () => {
    const read = (sensor: Parameters<ReturnType<typeof createPlant>["setSensorFault"]>[0], mode: Parameters<ReturnType<typeof createPlant>["setSensorFault"]>[1]) => {
        const p = createPlant(quiet)
        drive(p, 25000, 10000)
        p.setSensorFault(sensor, mode)
        drive(p, 25000, 10000)
        return p.sensors()
    }
    it("open: each input reads its pull resistor's level", () => {
        expect(read("air", "open").airInLine).toBe(true)
        expect(read("door", "open").doorOpen).toBe(true)
        expect(read("plunger", "open").plungerEngaged).toBe(false)
        expect(read("position", "open").plungerPositionUm).toBe(0)
        expect(read("battery", "open").batteryMv).toBe(0)
        expect(read("pressure", "open").pressureAdc).toBeLessThan(10)
    })
    it("short: the other rail", () => {
        expect(read("air", "short").airInLine).toBe(false)
        expect(read("door", "short").doorOpen).toBe(false)
        expect(read("plunger", "short").plungerEngaged).toBe(true)
        expect(read("position", "short").plungerPositionUm).toBe(4095 * 22)
        expect(read("battery", "short").batteryMv).toBe(6600)
        expect(read("pressure", "short").pressureAdc).toBe(4095)
    })
    it("stuck: the position reading stops while the pusher moves on", () => {
        const p = createPlant({ ...quiet, positionNoiseCounts: 0 })
        drive(p, 25000, 10000)
        p.setSensorFault("position", "stuck")
        const frozen = p.sensors().plungerPositionUm
        drive(p, 25000, 20000) // 20 s x 12.5 µm/s = 250 µm more
        expect(p.sensors().plungerPositionUm).toBe(frozen)
        expect(p.pusherPositionUm() - frozen).toBeGreaterThan(200)
    })
    it("noisy: a switch flips about `level` of its readings", () => {
        const p = createPlant(quiet)
        p.setSensorFault("door", "noisy", 0.2)
        let open = 0
        for (let i = 0; i < 5000; i++) if (p.sensors().doorOpen) open++
        expect(open / 5000).toBeGreaterThan(0.18)
        expect(open / 5000).toBeLessThan(0.22)
    })
    it("none repairs the wiring", () => {
        const p = createPlant(quiet)
        p.setSensorFault("battery", "open")
        p.setSensorFault("battery", "none")
        expect(p.sensors().batteryMv).toBe(3900)
    })
})
