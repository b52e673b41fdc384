// Instrument protocols. Each parser takes what the instrument sent and returns a reading or a
// reason it is not one; nothing here throws on bad input, because a bench run must survive a
// garbled line at hour 1:59. Protocol references: docs/bench-testing.md.

export type Parsed =
    | { ok: true; kind: "mass_mg" | "flow_ul_h" | "volume_ul"; value: number; tempC: number; stable: boolean; event?: string }
    | { ok: true; kind: "event"; event: string }
    | { ok: false; reason: string }
    /** Not a reading and not an error: prompts, echoes, blank lines. */
    | { ok: "skip" }

const UNIT_MG: Record<string, number> = { g: 1000, mg: 1, kg: 1_000_000 }

/** Unit conversion without binary noise: balances print at most 7 decimals, so rounding to 1 ng
 *  removes the float error of `12.3456 * 1000` and nothing else. */
function exactMg(value: number, factor: number): number {
    return Math.round(value * factor * 1e6) / 1e6
}

// ---- Mettler-Toledo MT-SICS ------------------------------------------------------------------
// Response to S / SI / SIR (level 0): "S" <space> status <spaces> value <space> unit
//   S S      12.3456 g    stable       S D      12.3456 g    dynamic (not settled)
//   S I  (busy / cannot execute)  S +  overload   S -  underload
//   ES syntax error   ET transmission error   EL logical error

export function parseMtSics(line: string): Parsed {
    const t = line.trim()
    if (t === "") return { ok: "skip" }
    if (t === "ES" || t === "ET" || t === "EL") return { ok: false, reason: "balance error response " + t }
    const m = /^S\s+([SD])\s+(-?\s*\d+(?:\.\d+)?)\s+(g|mg|kg)$/.exec(t)
    if (m) {
        const value = exactMg(Number(m[2].replace(/\s+/g, "")), UNIT_MG[m[3]])
        if (!Number.isFinite(value)) return { ok: false, reason: "unreadable value" }
        return { ok: true, kind: "mass_mg", value, tempC: NaN, stable: m[1] === "S" }
    }
    if (/^S\s+I$/.test(t)) return { ok: false, reason: "balance busy (S I)" }
    if (/^S\s+\+$/.test(t)) return { ok: false, reason: "balance overload (S +)" }
    if (/^S\s+-$/.test(t)) return { ok: false, reason: "balance underload (S -)" }
    return { ok: false, reason: "not an MT-SICS weight response" }
}

// ---- Sartorius SBI ---------------------------------------------------------------------------
// Print/auto-print output: 16 characters (sign, value, unit) or 22 with a 6-character ID in
// front (e.g. "N     +   12.3456 g  "). A reading without a unit is not yet stable.
// Error texts look like "Err 54" or "  High  " / "  Low   ".

export function parseSartoriusSbi(line: string): Parsed {
    const t = line.replace(/[\r\n]/g, "")
    if (t.trim() === "") return { ok: "skip" }
    if (/err|high|low|cal/i.test(t)) return { ok: false, reason: "balance status: " + t.trim() }
    // With an ID field the sign is mandatory (it separates ID and value); without one it may be blank.
    const m = /^(?:[A-Za-z][A-Za-z0-9 ]{0,5}?\s+([+-])|([+-])?)\s*(\d+(?:\.\d+)?)\s*(g|mg|kg)?\s*$/.exec(t.trim())
    if (m) {
        const sign = (m[1] ?? m[2]) === "-" ? -1 : 1
        const unit = m[4] ?? "g"
        const value = sign * exactMg(Number(m[3]), UNIT_MG[unit])
        if (!Number.isFinite(value)) return { ok: false, reason: "unreadable value" }
        return { ok: true, kind: "mass_mg", value, tempC: NaN, stable: m[4] !== undefined }
    }
    return { ok: false, reason: "not a Sartorius SBI weight line" }
}

// ---- the pump's own log ----------------------------------------------------------------------
// Status line printed once a second by src/firmware/control.ts:
//   state=Running rate=25.000mL/h infused=1.234mL vtbi=50.000mL [alarm=OCCLUSION]
// optionally preceded by a capture timestamp in seconds ("12.5 state=...").
// EVENT lines ("EVENT #7 t=1234 ALARM OCCLUSION ...") become events.

export function parsePumpLog(line: string): Parsed & { tS?: number } {
    const t = line.replace(/\x1b\[[0-9;]*m/g, "").trim()
    if (t === "") return { ok: "skip" }
    const ev = /EVENT #\d+ t=(\d+) ([A-Z_]+) ?(.*)$/.exec(t)
    if (ev) {
        if (ev[2] === "ALARM") return { ok: true, kind: "event", event: "alarm:" + ev[3].split(" ")[0] }
        return { ok: "skip" }
    }
    const st = /^(?:(\d+(?:\.\d+)?)\s+)?.*state=(\S+).*infused=(-?\d+(?:\.\d+)?)mL/.exec(t)
    if (st) {
        const value = Number(st[3]) * 1000
        const r: Parsed & { tS?: number } = { ok: true, kind: "volume_ul", value, tempC: NaN, stable: true }
        if (st[1] !== undefined) r.tS = Number(st[1])
        return r
    }
    if (/state=/.test(t)) return { ok: false, reason: "status line without infused volume" }
    return { ok: "skip" }
}

// ---- Sensirion SLF3x through the SCC1-USB sensor cable (SHDLC) --------------------------------
// SHDLC frame: 0x7E | addr | cmd | [state, MISO only] | len | data... | chk | 0x7E, with 0x7E,
// 0x7D, 0x11, 0x13 byte-stuffed as 0x7D, (b ^ 0x20). chk = ~(sum of bytes between the start
// byte and chk) & 0xFF. SCC1 commands used (sensor type 3 = SF06 / SLF3x):
//   0x33 start continuous measurement: u16 interval ms, u16 sensor command (0x3608 = water)
//   0x35 get last measurement: [0x03] -> i16 flow, i16 temperature, u16 flags (big endian)
//   0x34 stop continuous measurement

export const SHDLC_START = 0x7e

/** Flow scale factors from the SLF3x datasheets: raw / scale = flow in the given unit. */
export const SLF3X_MODELS: Record<string, { scale: number; unitUlPerH: number }> = {
    // SLF3S-0600F: 10 per µL/min
    "slf3s-0600f": { scale: 10, unitUlPerH: 60 },
    // SLF3S-1300F / SLF3C-1300F: 500 per mL/min
    "slf3s-1300f": { scale: 500, unitUlPerH: 60_000 },
    // SLF3S-4000B: 32 per mL/min
    "slf3s-4000b": { scale: 32, unitUlPerH: 60_000 },
}
const SLF3X_TEMP_SCALE = 200 // per °C
export const SLF3X_FLAG_AIR_IN_LINE = 0x0001
export const SLF3X_FLAG_HIGH_FLOW = 0x0002

export function shdlcChecksum(bytes: number[]): number {
    let sum = 0
    for (const b of bytes) sum = (sum + b) & 0xff
    return ~sum & 0xff
}

function stuff(bytes: number[]): number[] {
    const out: number[] = []
    for (const b of bytes) {
        if (b === 0x7e || b === 0x7d || b === 0x11 || b === 0x13) out.push(0x7d, b ^ 0x20)
        else out.push(b)
    }
    return out
}

/** A MOSI (host to device) frame. */
export function shdlcRequest(addr: number, cmd: number, data: number[]): Buffer {
    const body = [addr, cmd, data.length, ...data]
    return Buffer.from([SHDLC_START, ...stuff([...body, shdlcChecksum(body)]), SHDLC_START])
}

/** A MISO (device to host) frame; used by tests and the instrument simulator. */
export function shdlcResponse(addr: number, cmd: number, state: number, data: number[]): Buffer {
    const body = [addr, cmd, state, data.length, ...data]
    return Buffer.from([SHDLC_START, ...stuff([...body, shdlcChecksum(body)]), SHDLC_START])
}

export interface ShdlcFrame {
    addr: number
    cmd: number
    state: number
    data: number[]
}

/** Byte-stream decoder: feed chunks, get whole frames or errors (bad checksum, bad length). */
export class ShdlcDecoder {
    /** "miso": device replies (with a state byte), what the recorder reads; "mosi": host
     *  requests (no state byte), what a simulated SCC1 reads. */
    private readonly direction: "miso" | "mosi"
    private buf: number[] = []
    private inFrame = false
    private escape = false

    constructor(direction: "miso" | "mosi" = "miso") {
        this.direction = direction
    }

    push(chunk: Uint8Array): { frames: ShdlcFrame[]; errors: string[] } {
        const frames: ShdlcFrame[] = []
        const errors: string[] = []
        for (const b of chunk) {
            if (b === SHDLC_START) {
                if (this.inFrame && this.buf.length > 0) {
                    const r = this.finish()
                    if (typeof r === "string") errors.push(r)
                    else frames.push(r)
                    this.inFrame = false
                } else {
                    this.inFrame = true // start byte (or a stop byte we treat as a new start)
                }
                this.buf = []
                this.escape = false
                continue
            }
            if (!this.inFrame) continue
            if (this.escape) {
                this.buf.push(b ^ 0x20)
                this.escape = false
            } else if (b === 0x7d) this.escape = true
            else this.buf.push(b)
            if (this.buf.length > 300) {
                errors.push("frame too long")
                this.buf = []
                this.inFrame = false
            }
        }
        return { frames, errors }
    }

    private finish(): ShdlcFrame | string {
        const b = this.buf
        const head = this.direction === "miso" ? 4 : 3 // addr, cmd, [state], len
        if (b.length < head + 1) return "frame too short"
        const len = b[head - 1]
        if (b.length !== head + len + 1) return "frame length mismatch"
        const chk = b[b.length - 1]
        if (shdlcChecksum(b.slice(0, b.length - 1)) !== chk) return "checksum error"
        return { addr: b[0], cmd: b[1], state: this.direction === "miso" ? b[2] : 0, data: b.slice(head, head + len) }
    }
}

export function slf3xStartRequest(intervalMs: number, sensorCommand = 0x3608): Buffer {
    return shdlcRequest(0, 0x33, [(intervalMs >> 8) & 0xff, intervalMs & 0xff, (sensorCommand >> 8) & 0xff, sensorCommand & 0xff])
}

export function slf3xReadRequest(): Buffer {
    return shdlcRequest(0, 0x35, [0x03])
}

/** Interprets a "get last measurement" response. */
export function parseSlf3xFrame(f: ShdlcFrame, model: string): Parsed {
    if (f.cmd !== 0x35) return { ok: "skip" }
    if (f.state !== 0) return { ok: false, reason: "SCC1 error state 0x" + f.state.toString(16) }
    if (f.data.length === 0) return { ok: "skip" } // measurement not ready yet
    if (f.data.length !== 6) return { ok: false, reason: "unexpected measurement length " + f.data.length }
    const m = SLF3X_MODELS[model]
    if (!m) return { ok: false, reason: "unknown SLF3x model " + model }
    const i16 = (hi: number, lo: number) => ((hi << 8) | lo) << 16 >> 16
    const flowRaw = i16(f.data[0], f.data[1])
    const tempRaw = i16(f.data[2], f.data[3])
    const flags = (f.data[4] << 8) | f.data[5]
    const value = (flowRaw / m.scale) * m.unitUlPerH
    const r: Parsed = { ok: true, kind: "flow_ul_h", value, tempC: tempRaw / SLF3X_TEMP_SCALE, stable: true }
    if (flags & SLF3X_FLAG_AIR_IN_LINE) r.event = "air_in_line"
    if (flags & SLF3X_FLAG_HIGH_FLOW) r.event = "high_flow"
    return r
}

/** Encodes a measurement the way the SCC1 returns it (instrument simulator, tests). */
export function slf3xMeasurementResponse(flowUlPerH: number, tempC: number, flags: number, model: string): Buffer {
    const m = SLF3X_MODELS[model]
    const raw = Math.max(-32768, Math.min(32767, Math.round((flowUlPerH / m.unitUlPerH) * m.scale)))
    const t = Math.round(tempC * SLF3X_TEMP_SCALE)
    return shdlcResponse(0, 0x35, 0, [(raw >> 8) & 0xff, raw & 0xff, (t >> 8) & 0xff, t & 0xff, (flags >> 8) & 0xff, flags & 0xff])
}

export type LineProtocol = "mt-sics" | "sartorius-sbi" | "pumplog"
export const LINE_PARSERS: Record<LineProtocol, (line: string) => Parsed> = {
    "mt-sics": parseMtSics,
    "sartorius-sbi": parseSartoriusSbi,
    pumplog: parsePumpLog,
}

/** Formats a balance reading as an MT-SICS SI/SIR response ("S S      12.3456 g"). */
export function formatMtSics(massMg: number, stable: boolean): string {
    const g = (massMg / 1000).toFixed(4)
    return `S ${stable ? "S" : "D"} ${g.padStart(12)} g`
}
