// Line format for exporting the persistent log over the console/serial link:
//   LOG <pump> <seq> <timeMs> <kind> <detail> *<crc32 hex of everything before " *">
// One record per line, self-checking, so a host can merge captures from many pumps and drop
// garbled lines instead of mis-reading them.

import { crc32Text, hex32 } from "./crc32"
import { StoredRecord } from "./record"

export interface ExportedRecord {
    pump: string
    seq: number
    timeMs: number
    kind: string
    detail: string
}

export interface LineParse {
    ok: boolean
    record: ExportedRecord
    /** Why the line was refused (empty when ok). */
    error: string
}

export const MAX_PUMP_ID_CHARS = 32

/** Characters allowed in a pump id (a text, not a chain of range tests: image data, not code). */
const ID_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"

export function isValidPumpId(id: string): boolean {
    if (id.length < 1 || id.length > MAX_PUMP_ID_CHARS) return false
    for (let i = 0; i < id.length; i++) if (ID_CHARS.indexOf(id.charAt(i)) < 0) return false
    return true
}

function isKind(k: string): boolean {
    if (k.length < 1 || k.length > 24) return false
    for (let i = 0; i < k.length; i++) {
        const c = k.charCodeAt(i)
        if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95)) return false
    }
    return true
}

function isPrintable(s: string): boolean {
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c < 0x20 || c > 0x7e) return false
    }
    return true
}

/** Strict decimal integer 0 <= v <= max (no sign, exponent, spaces or leading zeros). */
function parseUint(s: string, max: number): number {
    if (s.length < 1 || s.length > 15) return -1
    if (s.length > 1 && s.charCodeAt(0) === 48) return -1
    let v = 0
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c < 48 || c > 57) return -1
        v = v * 10 + (c - 48)
    }
    return v <= max ? v : -1
}

export function formatLogLine(pump: string, r: StoredRecord): string {
    const body = "LOG " + pump + " " + r.seq + " " + r.timeMs + " " + r.kind + " " + r.detail
    return body + " *" + hex32(crc32Text(body))
}

function fail(error: string): LineParse {
    return { ok: false, record: null, error: error }
}

export function parseLogLine(line: string): LineParse {
    let s = line
    // Tolerate CR line endings from serial terminals.
    if (s.length > 0 && s.charCodeAt(s.length - 1) === 13) s = s.slice(0, s.length - 1)
    if (s.length > 400) return fail("line too long")
    if (s.indexOf("LOG ") !== 0) return fail("not a LOG line")
    if (!isPrintable(s)) return fail("non-printable character")
    const star = s.lastIndexOf(" *")
    if (star < 0 || s.length - star !== 10) return fail("missing checksum")
    const body = s.slice(0, star)
    const sum = s.slice(star + 2)
    if (hex32(crc32Text(body)) !== sum) return fail("checksum mismatch")
    // Fields: LOG pump seq time kind detail (detail may be empty or contain spaces).
    const parts: string[] = []
    let at = 0
    for (let f = 0; f < 5; f++) {
        const sp = body.indexOf(" ", at)
        if (sp < 0) return fail("too few fields")
        parts.push(body.slice(at, sp))
        at = sp + 1
    }
    const detail = body.slice(at)
    const pump = parts[1]
    if (!isValidPumpId(pump)) return fail("bad pump id")
    const seq = parseUint(parts[2], 4294967295)
    if (seq < 1) return fail("bad seq")
    const t = parseUint(parts[3], 281474976710655)
    if (t < 0) return fail("bad time")
    if (!isKind(parts[4])) return fail("bad kind")
    return { ok: true, record: { pump: pump, seq: seq, timeMs: t, kind: parts[4], detail: detail }, error: "" }
}
