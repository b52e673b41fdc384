import { describe, expect, test } from "vitest"
import {
    erasesPerPagePerYear,
    FLASH_ENDURANCE_CYCLES,
    periodicBytesPerS,
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

    test("the layout's figures: event log 16 x 152 B, cells 6 x 216 B, progress cell 2 x 64 B, one library bank 33 x 216 B", () => {
        expect(sum("pl", 1)).toBe(16 * 152)
        expect(sum("pc", 1)).toBe(6 * 216)
        expect(sum("pp", 1)).toBe(2 * 64)
        // 6176 bytes = 32 full chunks of 192 + one of 32 (24 + 32 = 56 B).
        expect(sum("dlibA", 1)).toBe(32 * 216 + 56)
    })

    test("with no library stored, everything fits the RP2040's 8 KB with 25 % headroom (4,216 B of 6,090 B)", () => {
        const live = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 0))
        expect(live).toBe(16 * 152 + 6 * 216 + 2 * 64 + 48 + 2 * 96 + 88 + 32)
        expect(fitsWithHeadroom(live, SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(true)
    })

    test("one library bank fits the ESP32-S3's 16 KB with 25 % headroom (11,184 B of 12,234 B)", () => {
        expect(fitsWithHeadroom(totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 1)), SETTINGS_AREA_BYTES.esp32s3, 0.25)).toBe(true)
    })

    test("the budget check rejects a store that leaves less than 25 % of the usable area spare", () => {
        const usable = usableBytes(SETTINGS_AREA_BYTES.rp2040)
        expect(usable).toBe(8192 - 24 - 48)
        expect(fitsWithHeadroom(Math.floor(usable * 0.75), SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(true)
        expect(fitsWithHeadroom(Math.floor(usable * 0.75) + 1, SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(false)
    })

    // KNOWN GAP (issue 16, open): expected to FAIL. The reference library (6,176 B signed) costs
    // 6,968 B in fstor per bank: more than the RP2040's whole usable area next to the rest (8,120 B),
    // and two banks (an update) exceed the ESP32-S3's too. An update that does not fit is refused
    // (read-back, REQ-PERS-010) and its partial bank emptied; making it fit needs a library of at
    // most ~0.9 KB on the RP2040, or storage outside the settings area. Turn into `test` then.
    test.fails("worst case (library update: both banks) fits the RP2040's 8 KB with 25 % headroom", () => {
        const worst = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 2))
        expect(fitsWithHeadroom(worst, SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(true)
    })

    test("periodic writes while infusing (64 B progress every 30 s, 216 B counters every 15 min) leave the RP2040 settings pages >= 10 years of 100k cycles", () => {
        // 64/30 + 216/900 = 2.3733 B/s = 7.490e7 B/yr; free 8,120 - 4,216 = 3,904 B; one gc per
        // 3,904 B, each page erased every second gc: 7.490e7 / 7,808 = 9,592 erases/yr -> 10.4 years.
        expect(periodicBytesPerS()).toBeCloseTo(64 / 30 + 216 / 900, 6)
        const live = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 0))
        const w = snapshotWear(SETTINGS_AREA_BYTES.rp2040, live)
        expect(w.erasesPerYear).toBeCloseTo(((64 / 30 + 216 / 900) * 365.25 * 86400) / (2 * 3904), 0)
        expect(w.years).toBeGreaterThanOrEqual(10)
        // ESP32-S3 with one library bank: free 16,312 - 11,184 = 5,128 B -> 13.7 years.
        expect(snapshotWear(SETTINGS_AREA_BYTES.esp32s3, totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 1))).years).toBeGreaterThanOrEqual(10)
    })

    test("wear arithmetic: 216 B every 5 s into 2 KB of free space = 1.36 GB/yr / (2 x 2 KB) erases per page", () => {
        // 365.25 d x 86400 s / 5 s x 216 B = 1.3634e9 B/yr; one gc per 2048 B; a page every second gc.
        const e = erasesPerPagePerYear(216, 5000, 0, 2048 + 24 + 48)
        expect(e).toBeCloseTo((365.25 * 86400 * 216) / 5 / (2 * 2048), 0)
        expect(FLASH_ENDURANCE_CYCLES / e).toBeLessThan(1)
    })
})
