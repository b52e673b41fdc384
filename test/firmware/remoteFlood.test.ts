// REQ-BUD-006: a packet flood cannot crowd the control tick out of the cooperative scheduler. The
// device transport (src/firmware/remote.ts) admits at most one packet to the HMAC per
// ADMIT_PERIODS control periods; the rest are dropped before conversion, counted and summarised
// (REMOTE_DROP). Virtual clock: the flood arrives every 1 ms for 10 s of an infusion.

import { LAG_SLACK_STEPS } from "../../src/hal/tmcStepEngine"
import { createHmac, randomBytes } from "node:crypto"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { settingsLibrarySource } from "../../src/firmware/librarySource"
import { bootFirmware, runFirmware } from "../../src/firmware/app"
import { startRemote } from "../../src/firmware/remote"
import { CONTROL_PERIOD_MS } from "../../src/core/pump"
import { ADMIT_SPACING_MS } from "../../src/core/remote/endpoint"
import { InfusionProgram } from "../../src/core/program"
import { buildRequest } from "../../src/core/remote/client"
import { CMD_STATUS } from "../../src/core/remote/packet"
import { HmacSha256 } from "../../src/core/remote/auth"
import { createSimHardware } from "../../src/hal/sim"
import { FakeClock, fakeDeviceServices, MapSettings } from "./fakeDevice"

const PROGRAM: InfusionProgram = { syringeId: "bd-plastipak-50", rateUlPerH: 10000, vtbiUl: 5000, kvoRateUlPerH: 1000, bolusUl: 0, bolusDurationS: 0 }
// BD Plastipak 50 mL: 26.59 mm bore, 3200 µsteps/mm (docs/architecture.md): 173,531 pL a step.
const STEP_PL = 173531
const FLOOD_MS = 10000

beforeEach(() => {
    vi.spyOn(console, "log").mockImplementation(() => {})
})
afterEach(() => {
    vi.restoreAllMocks()
})

describe("remote flood (REQ-BUD-006)", () => {
    // The budget (docs/architecture.md "Timing budget", RP2040 upper estimate 5,660 ns/opcode):
    // a forged 233-byte frame is 15,880 opcodes = 89.9 ms, the steady tick 4,302 opcodes = 24.4 ms.
    // With both under 50 % of the CPU (2x headroom): 89.9 / spacing + 24.4 / period <= 0.5.
    it("admission spacing leaves >= 2x CPU headroom at the RP2040 upper estimate under a flood", () => {
        const packetMs = (15880 * 5660) / 1e6
        const tickMs = (4302 * 5660) / 1e6
        expect(packetMs / ADMIT_SPACING_MS + tickMs / CONTROL_PERIOD_MS).toBeLessThanOrEqual(0.5)
        // And the spacing is a whole number of periods (one HMAC per N ticks, N >= 1).
        expect(ADMIT_SPACING_MS % CONTROL_PERIOD_MS).toBe(0)
        expect(ADMIT_SPACING_MS).toBeGreaterThanOrEqual(CONTROL_PERIOD_MS)
    })

    it("a forged packet every 1 ms: HMACs at least ADMIT_SPACING_MS apart, every drop counted, delivery on time", async () => {
        const flash = new MapSettings()
        const gwHex = randomBytes(32).toString("hex")
        flash.flash.set("RKEY_GW", Buffer.from(JSON.stringify(gwHex)))
        const clock = new FakeClock()
        const dev = fakeDeviceServices(clock, flash)
        const macTimes: number[] = []
        const real = dev.remoteHmac
        const counting: HmacSha256 = { mac: (k, d) => (macTimes.push(clock.nowMs()), real.mac(k, d)) }
        dev.remoteHmac = counting
        const fw = await clock.runUntil(bootFirmware(createSimHardware(() => clock.nowMs()), dev, "test-", settingsLibrarySource), 20000)
        const remote = await clock.runUntil(startRemote(fw.pump, fw.log, fw.persistence, "test-0123456789abcdef", null, dev), 5000)
        expect(runFirmware(fw, PROGRAM, true).ok).toBe(true)
        const startMs = clock.nowMs()
        // Signed with a wrong key: every admitted one costs a full MAC check and is dropped.
        const forged = Buffer.from(buildRequest(real, [...randomBytes(32)], "test-0123456789abcdef", 0, 1, CMD_STATUS, []))
        let sent = 0
        clock.every(1, () => {
            if (clock.nowMs() - startMs >= FLOOD_MS) return
            sent++
            void remote.handle(forged)
        })
        macTimes.length = 0
        await clock.advanceBy(FLOOD_MS)

        // Consecutive MAC checks >= ADMIT_SPACING_MS apart, and the flood gets its full share:
        // 10 s / 400 ms = 25 checks (+1 for the first at t = 0).
        expect(macTimes.length).toBeGreaterThan(0)
        for (let i = 1; i < macTimes.length; i++) expect(macTimes[i] - macTimes[i - 1]).toBeGreaterThanOrEqual(ADMIT_SPACING_MS)
        expect(macTimes.length).toBeLessThanOrEqual(FLOOD_MS / ADMIT_SPACING_MS + 1)
        expect(macTimes.length).toBeGreaterThanOrEqual(FLOOD_MS / ADMIT_SPACING_MS - 1)
        // Every packet is accounted for: checked (bad MAC) or dropped by the limiter.
        const s = remote.endpoint.stats
        expect(sent).toBeGreaterThanOrEqual(FLOOD_MS - 1)
        expect(s.received).toBe(sent)
        expect(s.badMac).toBe(macTimes.length)
        expect(s.rateLimited).toBe(sent - macTimes.length)
        expect(fw.log.ofKind("REMOTE_DROP").length).toBeGreaterThanOrEqual(1)
        // The tick kept its cadence: 10 s at 10 mL/h = 27.78 µL = 160 whole steps of 173,531 pL,
        // within one step.
        const steps = Math.floor((PROGRAM.rateUlPerH * FLOOD_MS * 1e6) / 3600000 / STEP_PL)
        expect(steps).toBe(160)
        expect(fw.pump.state()).toBe("Running")
        // The plan kept time; the motor (XACTUAL polled at the last tick) is
        // never ahead of the plan (position lease) and behind it by at most the ramp's lag allowance.
        // The last tick ran at most one period before the end (9.9 s at 100 ms: 158.5 steps).
        const stepsOnePeriodEarlier = Math.floor((PROGRAM.rateUlPerH * (FLOOD_MS - CONTROL_PERIOD_MS) * 1e6) / 3600000 / STEP_PL)
        expect(fw.pump.stepsCommanded()).toBeLessThanOrEqual(steps)
        expect(fw.pump.stepsCommanded()).toBeGreaterThanOrEqual(stepsOnePeriodEarlier - 1)
        const fired = await fw.hw.stepper.firedCount()
        expect(fired).toBeLessThanOrEqual(fw.pump.stepsCommanded())
        expect(fw.pump.stepsCommanded() - fired).toBeLessThanOrEqual(LAG_SLACK_STEPS)
    })
})
