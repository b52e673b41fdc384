import { describe, expect, test } from "vitest"
import {
    FLASH_ENDURANCE_CYCLES,
    fitsWithHeadroom,
    fstorBytes,
    persistedKeys,
    REFERENCE_LIBRARY_BYTES,
    SETTINGS_AREA_BYTES,
    snapshotWear,
    totalBytes,
    usableBytes,
} from "../../src/core/persist/settingsBudget"

const sum = (key: string, libBanks: number) => {
    const k = persistedKeys(REFERENCE_LIBRARY_BYTES, libBanks).filter(e => e.key.startsWith(key))
    return totalBytes(k)
}

describe("settings flash budget (fstor: 24-byte entry + data rounded up to 8)", () => {
    test("fstor cost of one value: 24-byte entry plus data rounded up to 8 bytes, an empty value 8", () => {
        expect(fstorBytes(1)).toBe(32)
        expect(fstorBytes(8)).toBe(32)
        expect(fstorBytes(9)).toBe(40)
        expect(fstorBytes(0)).toBe(32)
        expect(fstorBytes(192)).toBe(216)
    })

    test("the issue's figures: event log 32 x 152 B, cells 6 x 216 B, one library bank 33 x 216 B", () => {
        expect(sum("pl", 1)).toBe(32 * 152)
        expect(sum("pc", 1)).toBe(6 * 216)
        // 6176 bytes = 32 full chunks of 192 + one of 32 (24 + 32 = 56 B).
        expect(sum("dlibA", 1)).toBe(32 * 216 + 56)
    })

    test("the budget check rejects a store that leaves less than 25 % of the usable area spare", () => {
        const usable = usableBytes(SETTINGS_AREA_BYTES.rp2040)
        expect(usable).toBe(8192 - 24 - 48)
        expect(fitsWithHeadroom(Math.floor(usable * 0.75), SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(true)
        expect(fitsWithHeadroom(Math.floor(usable * 0.75) + 1, SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(false)
    })

    // KNOWN GAP (issue 16, open): these two are expected to FAIL today and flip to red when the
    // store is made to fit (compact library, fewer/smaller records, rarer snapshot writes); then
    // turn `test.fails` into `test`.
    test.fails("worst case (library update: both banks) fits the RP2040's 8 KB with 25 % headroom", () => {
        const worst = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 2))
        expect(fitsWithHeadroom(worst, SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(true)
    })

    test.fails("power snapshots every 5 s wear the RP2040 settings pages out in no less than 10 years (100k cycles)", () => {
        const live = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 0))
        expect(snapshotWear(SETTINGS_AREA_BYTES.rp2040, live).years).toBeGreaterThanOrEqual(10)
    })

    test("wear arithmetic: 216 B every 5 s into 2 KB of free space = 1.36 GB/yr / (2 x 2 KB) erases per page", () => {
        // 365.25 d x 86400 s / 5 s x 216 B = 1.3634e9 B/yr; one gc per 2048 B; a page every second gc.
        const area = 2048 + 24 + 48
        const e = snapshotWear(area, 0).erasesPerYear
        expect(e).toBeCloseTo((365.25 * 86400 * 216) / 5 / (2 * 2048), 0)
        expect(FLASH_ENDURANCE_CYCLES / e).toBeLessThan(1)
    })
})
