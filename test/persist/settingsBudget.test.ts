import { describe, expect, test } from "vitest"
import {
    BOARD_LIBRARY_BANKS,
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
        expect(sum("dlib.cur", 1)).toBe(32)
    })

    test("board layout (library in the program image, no bank in settings): 16 x 152 + 6 x 216 + 2 x 64 + PUMP_ID 48 + 2 keys x 96 + library key 88 = 4,184 B", () => {
        expect(BOARD_LIBRARY_BANKS).toBe(0)
        const board = persistedKeys(REFERENCE_LIBRARY_BYTES, BOARD_LIBRARY_BANKS)
        // No chunk and no commit record: the board images never write a "dlib" key.
        expect(board.filter(e => e.key.startsWith("dlib"))).toEqual([])
        expect(totalBytes(board)).toBe(16 * 152 + 6 * 216 + 2 * 64 + 48 + 2 * 96 + 88)
    })

    test("REQ-BUD-004: the board layout fits the RP2040's 8 KB with 25 % headroom (4,184 B of 6,090 B)", () => {
        const board = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, BOARD_LIBRARY_BANKS))
        // 8,192 - 24 header - 48 slack = 8,120 usable; x 0.75 = 6,090.
        expect(Math.floor(usableBytes(SETTINGS_AREA_BYTES.rp2040) * 0.75)).toBe(6090)
        expect(fitsWithHeadroom(board, SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(true)
    })

    test("REQ-BUD-004: the board layout fits the ESP32-S3's 16 KB with 25 % headroom (4,184 B of 12,234 B)", () => {
        const board = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, BOARD_LIBRARY_BANKS))
        expect(Math.floor(usableBytes(SETTINGS_AREA_BYTES.esp32s3) * 0.75)).toBe(12234)
        expect(fitsWithHeadroom(board, SETTINGS_AREA_BYTES.esp32s3, 0.25)).toBe(true)
    })

    test("the budget check rejects a store that leaves less than 25 % of the usable area spare", () => {
        const usable = usableBytes(SETTINGS_AREA_BYTES.rp2040)
        expect(usable).toBe(8192 - 24 - 48)
        expect(fitsWithHeadroom(Math.floor(usable * 0.75), SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(true)
        expect(fitsWithHeadroom(Math.floor(usable * 0.75) + 1, SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(false)
    })

    test("a library kept in settings fails the check: one bank 11,152 B on the RP2040, an update's two banks 18,120 B on the ESP32-S3 (why the boards carry it in the image)", () => {
        // The settings path the simulator and HIL images keep: 4,184 + commit record 32 + 6,936 per bank.
        const one = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 1))
        const two = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 2))
        expect(one).toBe(4184 + 32 + 32 * 216 + 56)
        expect(two).toBe(one + 32 * 216 + 56)
        expect(fitsWithHeadroom(one, SETTINGS_AREA_BYTES.rp2040, 0.25)).toBe(false)
        expect(fitsWithHeadroom(two, SETTINGS_AREA_BYTES.esp32s3, 0.25)).toBe(false)
    })

    test("periodic writes while infusing (64 B progress every 30 s, 216 B counters every 15 min) leave the RP2040 settings pages >= 10 years of 100k cycles", () => {
        // 64/30 + 216/900 = 2.3733 B/s = 7.490e7 B/yr; free 8,120 - 4,184 = 3,936 B; one gc per
        // 3,936 B, each page erased every second gc: 7.490e7 / 7,872 = 9,514 erases/yr -> 10.5 years.
        expect(periodicBytesPerS()).toBeCloseTo(64 / 30 + 216 / 900, 6)
        const live = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, BOARD_LIBRARY_BANKS))
        const w = snapshotWear(SETTINGS_AREA_BYTES.rp2040, live)
        expect(w.erasesPerYear).toBeCloseTo(((64 / 30 + 216 / 900) * 365.25 * 86400) / (2 * 3936), 0)
        expect(w.years).toBeGreaterThanOrEqual(10)
        // ESP32-S3, the same layout: free 16,312 - 4,184 = 12,128 B -> 32 years.
        expect(snapshotWear(SETTINGS_AREA_BYTES.esp32s3, live).years).toBeGreaterThanOrEqual(10)
    })

    test("wear arithmetic: 216 B every 5 s into 2 KB of free space = 1.36 GB/yr / (2 x 2 KB) erases per page", () => {
        // 365.25 d x 86400 s / 5 s x 216 B = 1.3634e9 B/yr; one gc per 2048 B; a page every second gc.
        const e = erasesPerPagePerYear(216, 5000, 0, 2048 + 24 + 48)
        expect(e).toBeCloseTo((365.25 * 86400 * 216) / 5 / (2 * 2048), 0)
        expect(FLASH_ENDURANCE_CYCLES / e).toBeLessThan(1)
    })
})
