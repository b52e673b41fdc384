// The drug-library key as the device reads it from settings (libraryDevice.ts loadDeviceKey):
// 64 hex digits in any letter case, raw or JSON-quoted, and the key rules of the remote
// interface (issue 13). Keys are generated per run (no key text lives in the repository).
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { KEY_SETTING } from "../../src/core/persist/settingsLayout"
import { loadDeviceKey } from "../../src/firmware/libraryDevice"
import { MapSettings } from "./fakeDevice"

async function load(stored: string | null, extra: Record<string, string> = {}) {
    const settings = new MapSettings()
    if (stored !== null) settings.flash.set(KEY_SETTING, Buffer.from(stored))
    for (const k of Object.keys(extra)) settings.flash.set(k, Buffer.from(JSON.stringify(extra[k])))
    const log = new EventLog(10)
    const key = await loadDeviceKey(settings, log, 7)
    return { key, refusals: log.ofKind("DLIB_NO_KEY").map(e => e.detail) }
}

describe("device library key (DERSKEY)", () => {
    const bytes = randomBytes(32)
    const hex = bytes.toString("hex")

    it("64 lower-case hex digits give those 32 bytes, nothing logged", async () => {
        const { key, refusals } = await load(hex)
        expect(Buffer.from(key!).equals(bytes)).toBe(true)
        expect(refusals).toEqual([])
    })
    it("upper case and JSON quotes (as .env provisioning stores it) give the same bytes", async () => {
        expect(Buffer.from((await load(hex.toUpperCase())).key!).equals(bytes)).toBe(true)
        expect(Buffer.from((await load(JSON.stringify(hex))).key!).equals(bytes)).toBe(true)
    })
    it("no key: refused and logged, every library will be refused", async () => {
        const { key, refusals } = await load(null)
        expect(key).toBe(null)
        expect(refusals).toEqual(["no device key in setting " + KEY_SETTING + "; every drug library will be refused"])
    })
    it("63 or 65 digits, or one non-hex digit: refused and logged", async () => {
        for (const bad of [hex.slice(1), hex + "0", "g" + hex.slice(1), hex.slice(0, 63) + " "]) {
            const { key, refusals } = await load(bad)
            expect(key).toBe(null)
            expect(refusals.length).toBe(1)
            expect(refusals[0]).toMatch(/hex/)
        }
    })
    it("a placeholder key (one repeated byte) and a key equal to the gateway's are refused", async () => {
        expect((await load("ab".repeat(32))).refusals[0]).toContain("placeholder key")
        const r = await load(hex, { RKEY_GW: hex.toUpperCase() })
        expect(r.key).toBe(null)
        expect(r.refusals[0]).toContain("equals the gateway key")
    })
})
