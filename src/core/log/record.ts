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
import type { ByteView } from "./pageStore"

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

/** Printable ASCII only: anything else becomes '?', so stored text is always exportable. */
function asciiAt(s: string, i: number): number {
    const c = s.charCodeAt(i)
    return c >= 0x20 && c <= 0x7e ? c : 0x3f
}

/** Characters of `detail` that fit beside `kind` in a slot, and whether a mark must follow. */
function detailFit(kind: string, detail: string, slotSize: number): number {
    const kindLen = kind.length <= MAX_KIND_CHARS ? kind.length : MAX_KIND_CHARS
    const room = slotSize - OVERHEAD_BYTES - kindLen
    return detail.length > room ? room - 1 : detail.length
}

/** The detail text exactly as `encodeRecord` stores it (non-ASCII replaced, over-long text cut
 *  and marked), computed without building the slot image. */
export function storedDetail(kind: string, detail: string, slotSize: number): string {
    const n = detailFit(kind, detail, slotSize)
    let clean = true
    for (let i = 0; i < n && clean; i++) if (asciiAt(detail, i) !== detail.charCodeAt(i)) clean = false
    let out = ""
    if (clean) out = detail.slice(0, n)
    else for (let i = 0; i < n; i++) out += String.fromCharCode(asciiAt(detail, i))
    return n < detail.length ? out + TRUNCATED_MARK : out
}

function bytesToText(b: number[], from: number, n: number): string {
    let s = ""
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[from + i])
    return s
}

function putU(b: ByteView, at: number, v: number, n: number) {
    // 32-bit values use shifts: in the DeviceScript VM, `%` on a result of `>>> 0` above 2^31
    // gave a negative byte (found by the in-VM test). Only the 48-bit time needs division.
    let x = v
    if (n > 4) {
        const high = Math.floor(v / 4294967296)
        x = v - high * 4294967296
        for (let i = 4; i < n; i++) b[at + i] = (high >>> ((i - 4) * 8)) & 0xff
    }
    for (let i = 0; i < 4 && i < n; i++) b[at + i] = (x >>> (i * 8)) & 0xff
}

function getU(b: number[], at: number, n: number): number {
    let v = 0
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i]
    return v
}

/** Slot image with the commit marker byte cleared (the caller commits it last). */
export function encodeRecord(r: StoredRecord, slotSize: number): number[] {
    const b: number[] = []
    for (let i = 0; i < slotSize; i++) b.push(0)
    encodeRecordInto(r, b, slotSize)
    return b
}

/** Same image written into `b`: bytes 0..slotSize-2 (the body, which the stores write before
 *  the commit marker) and, if `b` has room for it, the cleared marker. Allocates nothing: the
 *  device keeps one body-sized scratch array per store, because a fresh slot-sized array on every
 *  save fragmented the VM's 64 KB heap until a 1.5 KB allocation failed (HIL, vclock backend). */
export function encodeRecordInto(r: StoredRecord, b: ByteView, slotSize: number) {
    const kindLen = r.kind.length <= MAX_KIND_CHARS ? r.kind.length : MAX_KIND_CHARS
    const n = detailFit(r.kind, r.detail, slotSize)
    const detailLen = n < r.detail.length ? n + 1 : n
    for (let i = 0; i < slotSize - 1; i++) b[i] = 0
    b[0] = RECORD_MAGIC
    putU(b, 1, r.seq, 4)
    putU(b, 5, r.timeMs < 0 ? 0 : r.timeMs, 6)
    b[11] = kindLen
    b[12] = detailLen
    for (let i = 0; i < kindLen; i++) b[HEADER_BYTES + i] = asciiAt(r.kind, i)
    const at = HEADER_BYTES + kindLen
    for (let i = 0; i < n; i++) b[at + i] = asciiAt(r.detail, i)
    if (n < r.detail.length) b[at + n] = TRUNCATED_MARK.charCodeAt(0)
    putU(b, slotSize - 5, crc32(b, 0, slotSize - 5), 4)
    if (b.length >= slotSize) b[slotSize - 1] = 0
}

/** The record in a slot image, or null if the slot is empty, torn, uncommitted or corrupt. */
export function decodeRecord(b: number[]): StoredRecord {
    const size = b.length
    if (size < OVERHEAD_BYTES + 1) return null
    if (b[0] !== RECORD_MAGIC || b[size - 1] !== COMMIT) return null
    const k = b[11]
    const d = b[12]
    if (k === 0 || k > MAX_KIND_CHARS || HEADER_BYTES + k + d > size - 5) return null
    if (crc32(b, 0, size - 5) >>> 0 !== getU(b, size - 5, 4) >>> 0) return null
    const seq = getU(b, 1, 4)
    if (seq < 1) return null
    return { seq: seq, timeMs: getU(b, 5, 6), kind: bytesToText(b, HEADER_BYTES, k), detail: bytesToText(b, HEADER_BYTES + k, d) }
}
