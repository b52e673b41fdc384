// REQ-PERS-010: every settings write is read back. The runtime ignores a failed settings write
// (fstor returns -3 when its area is full; DeviceScript drops the code), so a write that did not
// reach flash must become a logged fault and a stopped pump, never a record presumed saved.
// The fake flash (fakeDevice.ts) drops, corrupts or rejects writes as the runtime can; the page
// stores and the library writer are the firmware's own code.

import { createHmac, randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { settingsLibrarySource } from "../../src/firmware/librarySource"
import { bootFirmware, PumpFirmware, runFirmware } from "../../src/firmware/app"
import { EventLog } from "../../src/core/eventLog"
import { DEFAULT_SAVE_INTERVAL_MS } from "../../src/core/persist/powerSafety"
import { InfusionProgram } from "../../src/core/program"
import { LibraryStore } from "../../src/core/druglib/store"
import { cryptoVerifier, installSigned, readPersisted } from "../../src/firmware/libraryDevice"
import { READ_BACK_ATTEMPTS, RETRY_AFTER_FLUSHES, writeVerified } from "../../src/core/persist/mirrorPageStore"
import { createSimHardware } from "../../src/hal/sim"
import { compileFile } from "../../tools/druglib/compile"
import { captureConsole } from "./consoleCapture"
import { FakeClock, fakeDeviceServices, MapSettings } from "./fakeDevice"

const PROGRAM: InfusionProgram = { syringeId: "bd-plastipak-50", rateUlPerH: 10000, vtbiUl: 5000, kvoRateUlPerH: 1000, bolusUl: 0, bolusDurationS: 0 }
/** The background writer flushes every 100 ms (persistence.ts). */
const WRITER_PERIOD_MS = 100

const out = captureConsole()

async function bootRunning(flash: MapSettings): Promise<{ clock: FakeClock; fw: PumpFirmware }> {
    const clock = new FakeClock()
    const fw = await clock.runUntil(bootFirmware(createSimHardware(() => clock.nowMs()), fakeDeviceServices(clock, flash), "test-", settingsLibrarySource), 20000)
    expect(runFirmware(fw, PROGRAM, true).ok).toBe(true)
    await clock.advanceBy(2000)
    expect(fw.pump.state()).toBe("Running")
    return { clock, fw }
}

describe("settings writes are read back (REQ-PERS-010)", () => {
    it("a write that reads back intact passes; a dropped, corrupted or rejected one is reported with its key", async () => {
        const flash = new MapSettings()
        const v = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])
        expect(await writeVerified(flash, "k1", v)).toBe("")
        flash.faultPrefix = "k"
        for (const f of ["drop", "corrupt", "throw"] as const) {
            flash.fault = f
            expect(await writeVerified(flash, "k2", v)).toMatch(/^k2 /)
        }
    })

    it("a stale answer from an earlier timed-out get (value before the write) does not fail a good write; a value that never reads back does", async () => {
        // A settings get has no request id: at chip speed a get can time out and its answer then
        // arrive as the answer to the next get of that key. Model: the first `stale` reads after
        // the write return the value flash held before it.
        const flash = new MapSettings()
        const before = Buffer.from([9, 9, 9, 9])
        const after = Buffer.from([1, 2, 3, 4])
        await flash.writeBytes("pc0", before)
        let stale = READ_BACK_ATTEMPTS - 1
        const laggy = {
            writeBytes: (k: string, v: Buffer) => flash.writeBytes(k, v),
            readBytes: async (k: string) => (stale-- > 0 ? before : await flash.readBytes(k)),
        }
        expect(await writeVerified(laggy, "pc0", after)).toBe("")
        // Every read stale (or the write lost): reported, never presumed saved.
        stale = READ_BACK_ATTEMPTS
        expect(await writeVerified(laggy, "pc0", Buffer.from([5, 6, 7, 8]))).toBe("pc0 read back differs")
    })

    for (const [fault, prefix, what] of [
        ["drop", "pc", "power snapshot dropped (store full)"],
        ["corrupt", "pc", "power snapshot corrupted"],
        ["drop", "pp", "snapshot progress cell dropped"],
        ["drop", "pl", "event log slot dropped"],
        ["throw", "pl", "event log write rejected"],
    ] as const) {
        it(`${what}: SETTINGS_WRITE_FAILED is logged and delivery stops behind PUMP_ALARM within one save interval`, async () => {
            const flash = new MapSettings()
            const { clock, fw } = await bootRunning(flash)
            flash.fault = fault
            flash.faultPrefix = prefix
            if (prefix === "pp") {
                // Only steps advance: the progress cell is written within one save interval.
                await clock.advanceBy(DEFAULT_SAVE_INTERVAL_MS + 2 * WRITER_PERIOD_MS)
            } else {
                // A pause (a logged state change) writes the snapshot and a log record at once;
                // the resume afterwards is itself a state change.
                fw.pump.pause(clock.nowMs())
                await clock.advanceBy(2 * WRITER_PERIOD_MS)
                fw.pump.resume(clock.nowMs())
                await clock.advanceBy(2 * WRITER_PERIOD_MS)
            }
            expect(out.lines.some(l => l.includes("SETTINGS_WRITE_FAILED") && l.includes(prefix))).toBe(true)
            expect(fw.pump.state()).toBe("Alarm")
            expect(fw.pump.status().alarmCode).toBe("PUMP_ALARM")
        })
    }

    it("a continuing fault is retried once a minute, not every 100 ms (each failed write into a full area costs an 8 KB erase), and re-logged", async () => {
        const flash = new MapSettings()
        const { clock } = await bootRunning(flash)
        flash.fault = "drop"
        flash.faultPrefix = "pp"
        // 5 min = 3,000 writer periods: without the hold the failing slot would be written 3,000
        // times; with one retry per 60 s (600 flushes), at most 5 min / 60 s + 1 = 6.
        expect(RETRY_AFTER_FLUSHES * WRITER_PERIOD_MS).toBe(60000)
        await clock.advanceBy(5 * 60 * 1000)
        expect(flash.faultedWrites).toBeGreaterThanOrEqual(1)
        expect(flash.faultedWrites).toBeLessThanOrEqual(6)
        expect(out.lines.filter(l => l.includes("SETTINGS_WRITE_FAILED")).length).toBeGreaterThanOrEqual(2)
    })

    it("a drug library whose chunks do not reach flash is refused, not reported installed, and the old state stays in force", async () => {
        const flash = new MapSettings()
        const key = randomBytes(32)
        const clock = new FakeClock()
        const dev = fakeDeviceServices(clock, flash)
        const log = new EventLog(64)
        const store = new LibraryStore(cryptoVerifier(key, dev.hmacSha256), log)
        const body = compileFile(new URL("../../docs/sample-drug-library.json", import.meta.url).pathname).bytes!
        const signed = Buffer.concat([body, createHmac("sha256", key).update(body).digest()])
        flash.fault = "drop"
        flash.faultPrefix = "dlib"
        const r = await clock.runUntil(installSigned(store, "Idle", signed, 0, dev), 60000)
        expect(r.ok).toBe(false)
        expect(r.reason).toMatch(/cannot persist/)
        expect(store.current()).toBe(null)
        expect((await readPersisted(flash)).signed).toBe(null)
        // The failed attempt left no chunk holding data (it would keep the area full).
        for (const [k, v] of flash.flash) if (k.startsWith("dlib")) expect(v.length).toBe(0)
        // The same library installs once the flash takes writes.
        flash.fault = ""
        expect((await clock.runUntil(installSigned(store, "Idle", signed, 0, dev), 60000)).ok).toBe(true)
        expect((await readPersisted(flash)).signed!.equals(signed)).toBe(true)
    })
})
