// Settings-flash budget: every key the firmware persists, with the bytes fstor (the Jacdac
// settings store under @devicescript/settings, jacdac-c source/jd_fstor.c) spends on it, and the
// flash wear of the steady write rate. fstor facts used here (from that source):
//  - one half of the area holds a 24-byte header, then 24-byte entries (15-char key + NUL, offset,
//    size) growing up, data (size rounded up to 8; an empty value still takes 8) growing down,
//    and keeps 2 entries' worth (48 bytes) free;
//  - a write appends a new copy (an identical value is skipped); when the half is full, gc erases
//    the OTHER half, copies the latest copy of every key into it and switches halves, so each
//    page is erased once every two gcs and a gc happens every (usable - live) bytes written;
//  - a write that still does not fit returns -3, which the DeviceScript runtime ignores.
// Pure arithmetic, no device import: tested in test/persist/settingsBudget.test.ts and printed
// by `npm run bench:device`.

import { MAINT_SAVE_INTERVAL_MS } from "./maintenance"
import { DEFAULT_SAVE_INTERVAL_MS } from "./powerSafety"
import { CELL_SLOT_BYTES, CELL_SLOTS, CHUNK_BYTES, CUR_SETTING, KEY_SETTING, LOG_SLOT_BYTES, LOG_SLOTS, PROGRESS_SLOT_BYTES } from "./settingsLayout"

export const FSTOR_ENTRY_BYTES = 24
export const FSTOR_HEADER_BYTES = 24
export const FSTOR_SLACK_BYTES = 2 * FSTOR_ENTRY_BYTES

/** Bytes one stored value of `dataBytes` costs in fstor. */
export function fstorBytes(dataBytes: number): number {
    const data = dataBytes === 0 ? 8 : Math.ceil(dataBytes / 8) * 8
    return FSTOR_ENTRY_BYTES + data
}

/** Settings area (one fstor half) per board: docs/boards.md, shared notes (DeviceScript 2.16). */
export const SETTINGS_AREA_BYTES = { rp2040: 8192, esp32s3: 16384 }
/** Usable bytes of an area: header and the slack fstor keeps free. */
export function usableBytes(areaBytes: number): number {
    return areaBytes - FSTOR_HEADER_BYTES - FSTOR_SLACK_BYTES
}

/** Library banks a board keeps in settings: none, its library is part of the program image (REQ-BUD-004). */
export const BOARD_LIBRARY_BANKS = 0

/** Signed size of the reference drug library (33 chunks of 192 bytes: "A33,6176"); on the boards
 *  the same bytes are program-image data. */
export const REFERENCE_LIBRARY_BYTES = 6176

export interface PersistedKey {
    key: string
    what: string
    count: number
    dataBytes: number
}

/** Every persisted key. `libraryBanks`: 0 on the boards (the library travels in the program
 *  image, src/firmware/librarySource.ts), 1 for one library in settings (simulator, HIL), 2 while an update writes the second
 *  bank. After a committed update the superseded bank's chunks are emptied (persistSigned), but
 *  each keeps a 32-byte empty entry in fstor: +33 x 32 = 1,056 B for the reference library, not
 *  counted here (it puts one library on the ESP32-S3 6 B over the 25 % headroom). */
export function persistedKeys(libraryBytes: number, libraryBanks: number): PersistedKey[] {
    const chunks = Math.ceil(libraryBytes / CHUNK_BYTES)
    const lastChunk = libraryBytes - (chunks - 1) * CHUNK_BYTES
    const keys: PersistedKey[] = [
        { key: "pl0..pl" + (LOG_SLOTS - 1), what: "event log ring slots", count: LOG_SLOTS, dataBytes: LOG_SLOT_BYTES },
        { key: "pc0..pc" + (CELL_SLOTS - 1), what: "durable cells: power snapshot, maintenance, replay counters (2 slots each)", count: CELL_SLOTS, dataBytes: CELL_SLOT_BYTES },
        { key: "pp0..pp1", what: "power snapshot progress cell (steps while infusing)", count: 2, dataBytes: PROGRESS_SLOT_BYTES },
        { key: "PUMP_ID", what: "pump identifier (JSON string)", count: 1, dataBytes: 18 },
        { key: "RKEY_GW", what: "remote gateway key (64 hex digits, JSON string)", count: 1, dataBytes: 66 },
        { key: "RKEY_CE", what: "remote central key (64 hex digits, JSON string)", count: 1, dataBytes: 66 },
        { key: KEY_SETTING, what: "drug library HMAC key (64 hex digits)", count: 1, dataBytes: 64 },
    ]
    if (libraryBanks > 0) keys.push({ key: CUR_SETTING, what: "library commit record", count: 1, dataBytes: 8 })
    for (let b = 0; b < libraryBanks; b++) {
        keys.push({ key: "dlib" + (b === 0 ? "A" : "B") + "000..", what: "drug library bank " + (b === 0 ? "A" : "B") + " chunks", count: chunks - 1, dataBytes: CHUNK_BYTES })
        keys.push({ key: "dlib" + (b === 0 ? "A" : "B") + "last", what: "its last chunk", count: 1, dataBytes: lastChunk })
    }
    return keys
}

export function totalBytes(keys: PersistedKey[]): number {
    let n = 0
    for (let i = 0; i < keys.length; i++) n += keys[i].count * fstorBytes(keys[i].dataBytes)
    return n
}

/** true when `liveBytes` fits `areaBytes` with `headroom` (0.25 = a quarter of the usable area spare). */
export function fitsWithHeadroom(liveBytes: number, areaBytes: number, headroom: number): boolean {
    return liveBytes <= usableBytes(areaBytes) * (1 - headroom)
}

/** Erase cycles per flash page per year for a steady write of `bytesPerWrite` (fstor bytes)
 *  every `intervalMs`, with `liveBytes` kept in an area of `areaBytes`. */
export function erasesPerPagePerYear(bytesPerWrite: number, intervalMs: number, liveBytes: number, areaBytes: number): number {
    const free = usableBytes(areaBytes) - liveBytes
    if (free <= 0) return Infinity
    const writesPerYear = (365.25 * 24 * 3600 * 1000) / intervalMs
    return (writesPerYear * bytesPerWrite) / (2 * free)
}

/** Rated erase/program endurance of the boards' NOR flash: W25Q16JV (Raspberry Pi Pico) and the
 *  ESP32-S3 modules' SPI flash, 100,000 cycles per sector (Winbond W25Q16JV datasheet, "more than
 *  100,000 erase/program cycles"). */
export const FLASH_ENDURANCE_CYCLES = 100000

/** fstor bytes per second of the steady writes while infusing: the progress cell every
 *  DEFAULT_SAVE_INTERVAL_MS and the maintenance counters every MAINT_SAVE_INTERVAL_MS (fstor skips
 *  a value identical to the stored one, so an idle pump writes nothing). Event-driven writes (log
 *  records, whole snapshots on a state change) come on top, at the rate events occur. */
export function periodicBytesPerS(): number {
    return (fstorBytes(PROGRESS_SLOT_BYTES) * 1000) / DEFAULT_SAVE_INTERVAL_MS + (fstorBytes(CELL_SLOT_BYTES) * 1000) / MAINT_SAVE_INTERVAL_MS
}

/** Wear of the steady writes (periodicBytesPerS) with `liveBytes` kept in an area of `areaBytes`. */
export function snapshotWear(areaBytes: number, liveBytes: number): { erasesPerYear: number; years: number } {
    const e = erasesPerPagePerYear(periodicBytesPerS(), 1000, liveBytes, areaBytes)
    return { erasesPerYear: e, years: FLASH_ENDURANCE_CYCLES / e }
}
