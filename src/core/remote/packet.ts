// Remote interface frames (binary, little-endian). Request:
//   0 version=1 | 1 keyId | 2..5 counter u32 | 6 command | 7..8 payload length L | payload | MAC[32]
//   MAC = HMAC-SHA256(key, "IPR1Q" | deviceId | 0x00 | bytes 0..8+L)
// Response: same header with byte 1 = status, MAC over "IPR1R" | deviceId | 0x00 | frame, so
// the gateway can authenticate the pump too. Every frame, request or response, fits one Jacdac
// packet (236-byte payload): requests are at most 233 bytes, responses at most 236 (a longer
// response text is cut and ends with "~"; LOG_READ returns as many whole lines as fit).

export const PROTOCOL_VERSION = 1
export const HEADER_LEN = 9
export const MAC_LEN = 32
export const MAX_PAYLOAD = 192
/** Payload of one Jacdac packet (jacdac-ts JD_SERIAL_MAX_PAYLOAD_SIZE). */
export const JACDAC_PACKET_BYTES = 236
export const MAX_RESPONSE_PAYLOAD = JACDAC_PACKET_BYTES - HEADER_LEN - MAC_LEN
/** Ends a response text that was cut to fit one packet. */
export const CUT_MARK = "~"

export const CMD_STATUS = 0x01
export const CMD_LOG_READ = 0x02
export const CMD_MAINT = 0x03
export const CMD_LIB_BEGIN = 0x10
export const CMD_LIB_CHUNK = 0x11
export const CMD_LIB_COMMIT = 0x12
export const CMD_CE_SET_OOS = 0x20
export const CMD_CE_CLEAR_OOS = 0x21
/** Authenticated re-synchronisation of a locked role (docs/security.md): the pump answers a
 *  challenge with a fresh random nonce; RESYNC echoes it and its frame counter becomes the role's
 *  new counter. Only these two are accepted from a locked role, and the counter is not checked. */
export const CMD_RESYNC_CHALLENGE = 0x40
export const CMD_RESYNC = 0x41
export const RESYNC_NONCE_BYTES = 16
/** Therapy control: defined only so that they are recognised, refused and logged. */
export const CMD_START = 0x30
export const CMD_SET_RATE = 0x31
export const CMD_BOLUS = 0x32
export const CMD_LOAD_PROGRAM = 0x33

export const STATUS_OK = 0
export const STATUS_REFUSED = 1

export interface Frame {
    /** keyId in requests, status in responses. */
    b1: number
    counter: number
    command: number
    payload: number[]
}

/** Printable ASCII and newline pass; anything else becomes '?'. */
function printable(c: number): number {
    return (c >= 0x20 && c <= 0x7e) || c === 10 ? c : 0x3f
}

/** The text as bytes, each character through printable(). */
export function asciiBytes(s: string): number[] {
    const out: number[] = []
    for (let i = 0; i < s.length; i++) out.push(printable(s.charCodeAt(i)))
    return out
}

/** The bytes as text, each byte through printable(). */
export function bytesText(b: number[]): string {
    let s = ""
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(printable(b[i]))
    return s
}

export function u32At(b: number[], at: number): number {
    return b[at] + b[at + 1] * 256 + b[at + 2] * 65536 + b[at + 3] * 16777216
}

/** Bytes the MAC covers: domain tag, device id, separator, then the frame without its MAC. */
export function macInput(domain: string, deviceId: string, frame: number[], frameLen: number): number[] {
    const d = asciiBytes(domain + deviceId)
    d.push(0)
    for (let i = 0; i < frameLen; i++) d.push(frame[i])
    return d
}

/** Header + payload (no MAC) of a frame with these fields (`b1`: key id or status). Throws on
 *  out-of-range fields: callers build frames, never parse with it. */
export function frameBody(b1: number, c: number, command: number, p: number[], maxPayload: number): number[] {
    if (p.length > maxPayload) throw new RangeError("payload too long")
    // Shifts, not %: the DeviceScript VM's % is wrong for values >= 2^31.
    const out: number[] = [PROTOCOL_VERSION, b1 & 0xff, c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24, command & 0xff, p.length & 0xff, p.length >> 8]
    for (let i = 0; i < p.length; i++) out.push(p[i] & 0xff)
    return out
}

/** Structural parse of a request (MAC not checked). Returns null for anything malformed. */
export function parseFrame(b: number[], maxPayload: number): Frame {
    if (!b || b.length < HEADER_LEN + MAC_LEN || b.length > HEADER_LEN + maxPayload + MAC_LEN) return null
    // Every element a byte: (v & 255) === v holds for exactly the integers 0..255 (not for
    // fractions, NaN, other numbers or non-numbers).
    for (let i = 0; i < b.length; i++) if ((b[i] & 255) !== b[i]) return null
    if (b[0] !== PROTOCOL_VERSION) return null
    const len = b[7] + b[8] * 256
    if (len > maxPayload || b.length !== HEADER_LEN + len + MAC_LEN) return null
    return { b1: b[1], counter: u32At(b, 2), command: b[6], payload: b.slice(HEADER_LEN, HEADER_LEN + len) }
}
