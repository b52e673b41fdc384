// One log record in one fixed-size slot. Layout (S = slot size):
//   0      magic 0x4C ('L', format version 1)
//   1..4   seq, u32 little-endian (1, 2, 3, ...; never reused)
//   5..10  timeMs, u48 little-endian (ms since boot; a BOOT record separates boots)
//   11     kind length k, 12 detail length d
//   13..   kind then detail, printable ASCII; the rest of the slot is zero padding
//   S-5..S-2  CRC-32 of bytes 0..S-6
//   S-1    commit marker 0xA5, written by a separate, final write
// A slot is valid only with magic, sane lengths, matching CRC and the commit marker.

import { crc32 } from "./crc32"
import { ByteView, MemoryPageStore, PageStore } from "./pageStore"

export const RECORD_MAGIC = 0x4c
export const COMMIT = 0xa5
export const HEADER_BYTES = 13
/** Header + CRC + marker. */
export const OVERHEAD_BYTES = HEADER_BYTES + 5
export const MAX_KIND_CHARS = 24
/** Marks text that did not fit in the slot (the in-RAM log keeps the full text). */
export const TRUNCATED_MARK = "~"

export interface StoredRecord {
    seq: number
    timeMs: number
    kind: string
    detail: string
}

/** Index of the first byte in b[from..end) that is not printable ASCII (end if none). */
function printableTo(b: ByteView, from: number, end: number): number {
    // One unsigned compare: below 0x20 wraps to above 0x5E.
    for (; from < end; from++) if ((b[from] - 0x20) >>> 0 > 0x5e) return from
    return end
}

/** Characters `n` from `from` of `b` as text (each byte one character). Printable ASCII in a
 *  Buffer, all that encodeRecordInto stores, is decoded by one native call; anything else (a
 *  number[], a foreign byte) char by char, as ever: that cost the VM a string allocation a
 *  character. */
export function bytesToText(b: ByteView, from: number, n: number): string {
    if (!Array.isArray(b) && printableTo(b, from, from + n) === from + n) return (b as Buffer).slice(from, from + n).toString()
    let s = ""
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[from + i])
    return s
}

function putU(b: ByteView, at: number, v: number, n: number) {
    // Division, not shifts or `%`: the VM's `%` is an integer remainder, and on a result of
    // `>>> 0` above 2^31 it gave a negative byte (found by the in-VM test). Exact for the 48-bit
    // time and the unsigned 32-bit seq and CRC.
    for (let i = 0; i < n; i++) {
        const q = Math.floor(v / 256)
        b[at + i] = v - q * 256
        v = q
    }
}

function getU(b: ByteView, at: number, n: number): number {
    let v = 0
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i]
    return v
}

/** Slot image with the commit marker byte cleared (the caller commits it last). */
export function encodeRecord(r: StoredRecord, slotSize: number): number[] {
    const store = new MemoryPageStore(1, slotSize)
    commitRecord(store, 0, r)
    const b = store.read(0)
    b[slotSize - 1] = 0
    return b
}

/** Writes record `r` into `slot` with the three-step commit: marker cleared first, then the body
 *  (slotSize - 1 bytes), then the marker, each write a Buffer. Returns the detail exactly as
 *  stored (non-ASCII replaced, over-long text cut and marked). The body is a fresh Buffer,
 *  garbage at return: as small as the copy every flush makes, and no scratch image stays on the
 *  VM heap (a slot-sized number[] a save once fragmented the 64 KB heap: 8 bytes an element). */
export function commitRecord(store: PageStore, slot: number, r: StoredRecord): string {
    const size = store.slotSize
    const detail = r.detail
    const kindLen = Math.min(r.kind.length, MAX_KIND_CHARS)
    // Characters of the detail that fit beside the kind; over-long text is cut and marked.
    const room = size - OVERHEAD_BYTES - kindLen
    const cut = detail.length > room
    const n = cut ? room - 1 : detail.length
    const text = r.kind.slice(0, kindLen) + detail.slice(0, n)
    // The text's bytes by native calls (Buffer.alloc zeroes; set, Buffer.from and slice run
    // natively in DeviceScript and on Node): a loop a byte cost the VM about 3,000 WASM
    // instructions an iteration. Buffer.from writes UTF-8, so a non-ASCII character shows as a
    // byte above 0x7E and sends the text down the character loop below.
    const b = Buffer.alloc(size - 1)
    b.set(Buffer.from(text).slice(0, kindLen + n), HEADER_BYTES)
    const exact = printableTo(b, HEADER_BYTES, HEADER_BYTES + kindLen + n) === HEADER_BYTES + kindLen + n
    // Printable ASCII only: anything else becomes '?' (one per UTF-16 unit), so stored text is
    // always exportable.
    if (!exact)
        for (let i = 0; i < kindLen + n; i++) {
            const c = text.charCodeAt(i)
            b[HEADER_BYTES + i] = c < 0x20 || c > 0x7e ? 0x3f : c
        }
    b[0] = RECORD_MAGIC
    putU(b, 1, r.seq, 4)
    putU(b, 5, Math.max(0, r.timeMs), 6)
    b[11] = kindLen
    b[12] = cut ? n + 1 : n
    if (cut) b[HEADER_BYTES + kindLen + n] = 0x7e // TRUNCATED_MARK
    putU(b, size - 5, crc32(b, 0, size - 5), 4)
    store.write(slot, size - 1, Buffer.alloc(1))
    store.write(slot, 0, b)
    store.write(slot, size - 1, Buffer.from([COMMIT]))
    return exact && !cut ? detail : bytesToText(b, HEADER_BYTES + kindLen, b[12])
}

/** The record in a slot image, or null if the slot is empty, torn, uncommitted or corrupt. */
export function decodeRecord(b: ByteView): StoredRecord {
    const size = b.length
    if (size < OVERHEAD_BYTES + 1) return null
    if (b[0] !== RECORD_MAGIC || b[size - 1] !== COMMIT) return null
    const k = b[11]
    const d = b[12]
    if (k === 0 || k > MAX_KIND_CHARS || HEADER_BYTES + k + d > size - 5) return null
    // Both unsigned: crc32 returns `>>> 0`, getU builds the value from bytes.
    if (crc32(b, 0, size - 5) !== getU(b, size - 5, 4)) return null
    const seq = getU(b, 1, 4)
    if (seq < 1) return null
    return { seq: seq, timeMs: getU(b, 5, 6), kind: bytesToText(b, HEADER_BYTES, k), detail: bytesToText(b, HEADER_BYTES + k, d) }
}
