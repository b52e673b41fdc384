// Remote interface endpoint (pump server / gateway side of the pump). Pure core: bytes in,
// bytes out, time passed in. Policy:
//  - every request is authenticated with HMAC-SHA256 under a per-device key; no key, no service
//    (there is no default credential); MACs are compared in constant time;
//  - a counter strictly above the last accepted one (persisted) stops replays;
//  - anything malformed, unauthenticated, replayed or over the rate limit is dropped without a
//    reply (no oracle) and counted; a summary goes to the event log at most once a minute;
//  - read-only commands (status, log, counters), drug-library transfer handed to an injected
//    installer, and out-of-service set/clear for the clinical-engineering key only;
//  - therapy control (start, rate change, bolus, program) is refused and logged, always.
// The transport calls accept() then, after the replay counter is flushed to storage, execute().

import { EventSink } from "../eventLog"
import { formatLogLine } from "../log/exportLine"
import { StoredRecord } from "../log/record"
import { CommandResult, CONTROL_PERIOD_MS, PumpController } from "../pump"
import { COUNTER_MAX, constantTimeEqual, HEX_DIGITS, HmacSha256, KEY_ENGINEERING, KeyRing, ReplayCounters } from "./auth"
import {
    asciiBytes,
    bytesText,
    CMD_CE_CLEAR_OOS,
    CMD_CE_SET_OOS,
    CMD_LIB_BEGIN,
    CMD_LIB_CHUNK,
    CMD_LIB_COMMIT,
    CMD_LOAD_PROGRAM,
    CMD_LOG_READ,
    CMD_MAINT,
    CMD_RESYNC,
    CMD_RESYNC_CHALLENGE,
    CMD_START,
    CMD_STATUS,
    CUT_MARK,
    Frame,
    frameBody,
    MAC_LEN,
    macInput,
    MAX_PAYLOAD,
    MAX_RESPONSE_PAYLOAD,
    parseFrame,
    RESYNC_NONCE_BYTES,
    STATUS_OK,
    STATUS_REFUSED,
    u32At,
} from "./packet"

/** Receives a complete drug library image; verifies its own signature and installs it. */
export interface LibraryInstaller {
    /** `image` is the signed library as received (a Buffer: a number[] of a real library
     *  exhausts the DeviceScript VM heap). */
    install(nowMs: number, image: Buffer): CommandResult
}

export interface LogReader {
    read(fromSeq: number, max: number): StoredRecord[]
}

export interface RemoteContext {
    deviceId: string
    pump: PumpController
    log: EventSink
    hmac: HmacSha256
    keys: KeyRing
    replay: ReplayCounters
    /** Persistent log for LOG_READ (null: not available). */
    logReader: LogReader
    /** Maintenance counters, text for MAINT (null: not available). */
    maintenance: { text(): string }
    /** Drug-library installer (null: library transfers refused at LIB_BEGIN, as on the boards,
     *  whose library is part of the program image). */
    installer: LibraryInstaller
    /** Unpredictable bytes for re-synchronisation nonces (device: @devicescript/crypto; host:
     *  node:crypto). Null: a locked role cannot be re-synchronised, only re-keyed. */
    random?: (n: number) => number[]
}

export interface RemoteStats {
    received: number
    accepted: number
    malformed: number
    badMac: number
    replayed: number
    noKey: number
    rateLimited: number
    /** Authenticated requests of a role that is locked (counter not proven current). */
    locked: number
    refused: number
}

/** An authenticated request: a parsed frame whose `b1` is the key id (0 gateway, 1 engineering). */
export type AcceptedRequest = Frame

export const MAX_LIBRARY_BYTES = 16384
/** Token bucket: 20 requests burst, refilled one per 50 ms (20/s). Checked before any HMAC. */
export const RATE_BURST = 20
/** REQ-BUD-006: the device transport admits at most one packet to the HMAC per
 *  ADMIT_PERIODS control periods, burst or not. Budget at the RP2040 upper estimate
 *  (docs/architecture.md "Timing budget"): one forged frame ~15,900 opcodes = 90 ms, the steady
 *  tick ~4,300 opcodes = 24.4 ms per 100 ms period; 90 / 400 + 24.4 / 100 = 47 % of the CPU, so
 *  >= 2x headroom holds under a sustained flood. A packet closer to the last admitted one is
 *  dropped before conversion and counted as rate-limited. */
export const ADMIT_PERIODS = 4
export const ADMIT_SPACING_MS = ADMIT_PERIODS * CONTROL_PERIOD_MS
export const RATE_REFILL_MS = 50
export const DROP_LOG_INTERVAL_MS = 60000
const LIB_IDLE_TIMEOUT_MS = 60000
/** Refusal of a library transfer by a pump whose library is part of its program image. */
export const NO_REMOTE_LIBRARY = "library updates on this pump are by program image (docs/drug-library.md)"
/** A re-synchronisation nonce is good for one RESYNC attempt within this time. */
export const RESYNC_NONCE_TTL_MS = 30000

/** run() answers with the response text. A refusal starts with one of these marks, which
 *  execute() strips (never sent): REFUSED is logged REMOTE_REFUSED there, the one place refusals
 *  are logged; REFUSED_LOGGED was logged where it happened. `REFUSED + "text"` is folded into one
 *  string literal by the compiler. */
const REFUSED = "\x01"
const REFUSED_LOGGED = "\x02"

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class RemoteEndpoint {
    private readonly ctx: RemoteContext
    readonly stats: RemoteStats = { received: 0, accepted: 0, malformed: 0, badMac: 0, replayed: 0, noKey: 0, rateLimited: 0, locked: 0, refused: 0 }
    private tokens = RATE_BURST
    /** Infinity: no packet yet (the first one starts the refill clock). */
    private lastRefillMs = Infinity
    private lastAdmitMs = -1e9
    /** Sum of the drop counters (stats.malformed ... stats.locked). */
    private dropped = 0
    private dropsLogged = 0
    private lastDropLogMs = -DROP_LOG_INTERVAL_MS
    /** Transfer buffer (null: none), allocated at LIB_BEGIN with the announced size; libLen
     *  bytes received so far. */
    private lib: Buffer
    private libLen: number
    private libLastMs: number
    /** Pending re-synchronisation nonce per key id (none if unset or null), and when it was drawn. */
    private readonly nonce: number[][] = []
    private readonly nonceMs: number[] = []

    constructor(ctx: RemoteContext) {
        this.ctx = ctx
    }

    drops(): number {
        return this.dropped
    }

    /** Authenticates a request; null means dropped (and counted). On success the replay counter
     *  is already advanced in storage: flush it before executing. Never throws. */
    accept(bytes: number[], nowMs: number): AcceptedRequest {
        return this.admit(nowMs, 0) ? this.acceptAdmitted(bytes, nowMs) : null
    }

    /** Rate limit, checked before the transport even converts the packet: a dropped packet
     *  then costs a few operations. Counts the packet as received. `spacingMs`: least time since
     *  the last admitted packet (the device passes ADMIT_SPACING_MS). */
    admit(nowMs: number, spacingMs: number): boolean {
        this.stats.received++
        // Token bucket; the first packet, or a clock that went backwards, restarts the refill.
        if (nowMs < this.lastRefillMs) this.lastRefillMs = nowMs
        const add = Math.floor((nowMs - this.lastRefillMs) / RATE_REFILL_MS)
        this.tokens = Math.min(RATE_BURST, this.tokens + add)
        this.lastRefillMs += add * RATE_REFILL_MS
        if (this.tokens <= 0 || (nowMs - this.lastAdmitMs < spacingMs && nowMs >= this.lastAdmitMs)) {
            this.noteDrops(nowMs, "rateLimited")
            return false
        }
        this.tokens--
        this.lastAdmitMs = nowMs
        return true
    }

    /** accept() for a packet that admit() let through. The MAC is checked before anything acts
     *  on the frame; the checks run in order and the first failing one names the drop. */
    acceptAdmitted(bytes: number[], nowMs: number): AcceptedRequest {
        const ctx = this.ctx
        let why = "malformed"
        try {
            const f = parseFrame(bytes, MAX_PAYLOAD)
            // Key ids: 0 gateway, 1 engineering (b1 is a byte: parseFrame checked it).
            if (f && f.b1 <= KEY_ENGINEERING) {
                const k = f.b1
                const key = ctx.keys.keys[k]
                why = "noKey"
                if (key) {
                    const n = bytes.length - MAC_LEN
                    why = "badMac"
                    if (constantTimeEqual(ctx.hmac.mac(key, macInput("IPR1Q", ctx.deviceId, bytes, n)), bytes.slice(n))) {
                        const r = ctx.replay
                        // Fail closed: a locked role gets only the re-synchronisation handshake
                        // through, and it moves no counter here (RESYNC sets it after the nonce
                        // checks, in run()).
                        // (c | 1) === CMD_RESYNC: exactly CMD_RESYNC_CHALLENGE (0x40) and CMD_RESYNC (0x41).
                        if (r.locked[k]) why = (f.command | 1) === CMD_RESYNC ? "" : "locked"
                        else if (f.counter <= r.last[k]) why = "replayed"
                        else {
                            r.set(k, f.counter)
                            why = ""
                        }
                        if (!why) {
                            this.stats.accepted++
                            return f
                        }
                    }
                }
            }
        } catch (e) {
            // Defensive: an unexpected input must not take the firmware down.
            why = "malformed"
        }
        this.noteDrops(nowMs, why)
        return null
    }

    /** Runs an accepted request and returns the signed response frame. Never throws. */
    execute(req: AcceptedRequest, nowMs: number): number[] {
        const ctx = this.ctx
        const cmd = "cmd=" + req.command
        let text: string
        try {
            text = this.run(req, nowMs)
        } catch (e) {
            ctx.log.record(nowMs, "REMOTE_ERROR", cmd + " " + e)
            text = REFUSED_LOGGED + "internal error"
        }
        const mark = text.charCodeAt(0)
        let status = STATUS_OK
        if (mark === 1 || mark === 2) {
            status = STATUS_REFUSED
            this.stats.refused++
            text = text.slice(1)
            if (mark === 1) ctx.log.record(nowMs, "REMOTE_REFUSED", cmd + " key=" + req.b1 + " ctr=" + req.counter + ": " + text)
        }
        // One Jacdac packet per frame: a longer text is cut and marked, never sent oversized.
        if (text.length > MAX_RESPONSE_PAYLOAD) text = text.slice(0, MAX_RESPONSE_PAYLOAD - 1) + CUT_MARK
        const body = frameBody(status, req.counter, req.command, asciiBytes(text), MAX_RESPONSE_PAYLOAD)
        const mac = ctx.hmac.mac(ctx.keys.keys[req.b1], macInput("IPR1R", ctx.deviceId, body, body.length))
        for (let i = 0; i < mac.length; i++) body.push(mac[i])
        return body
    }

    /** Writes a pending drop summary; call now and then (e.g. once a second). */
    poll(nowMs: number) {
        this.noteDrops(nowMs, null)
        if (this.lib && nowMs - this.libLastMs > LIB_IDLE_TIMEOUT_MS) {
            this.ctx.log.record(nowMs, "LIBRARY_UPDATE", "transfer abandoned after " + this.libLen + "/" + this.lib.length + " bytes")
            this.lib = null
        }
    }

    // ---- internals ------------------------------------------------------------------------

    /** Counts a drop of kind `why` (a RemoteStats field; null: none), then writes the summary
     *  record if one is due: one per minute at most, so a flood cannot flush the event log. */
    private noteDrops(nowMs: number, why: string) {
        const s = this.stats as any
        if (why) {
            s[why]++
            this.dropped++
        }
        const d = this.dropped
        if (d === this.dropsLogged || nowMs - this.lastDropLogMs < DROP_LOG_INTERVAL_MS) return
        this.ctx.log.record(
            nowMs,
            "REMOTE_DROP",
            "malformed=" + s.malformed + " badMac=" + s.badMac + " replayed=" + s.replayed + " noKey=" + s.noKey + " rateLimited=" + s.rateLimited + " locked=" + s.locked
        )
        this.dropsLogged = d
        this.lastDropLogMs = nowMs
    }

    /** The response text of an accepted request, or a refusal (REFUSED + reason). */
    private run(req: AcceptedRequest, nowMs: number): string {
        const ctx = this.ctx
        const c = req.command
        const p = req.payload
        const k = req.b1
        if (c === CMD_STATUS) {
            const s = ctx.pump.status()
            const st = this.stats
            return (
                "state=" + s.state + " rateUlh=" + s.rateUlPerH + " infusedUl=" + s.infusedUl + " vtbiUl=" + s.vtbiUl + " alarm=" + s.alarmCode +
                " oos=" + ctx.pump.outOfServiceText() + " rx=" + st.received + " dropped=" + this.dropped
            )
        }
        if (c === CMD_MAINT) return ctx.maintenance ? ctx.maintenance.text() : REFUSED + "counters not available"
        if (c === CMD_LOG_READ) {
            if (p.length !== 5) return REFUSED + "LOG_READ needs fromSeq u32 + max u8"
            if (!ctx.logReader) return REFUSED + "log not available"
            const recs = ctx.logReader.read(u32At(p, 0), p[4])
            let out = ""
            for (let i = 0; i < recs.length; i++) {
                const line = formatLogLine(ctx.deviceId, recs[i]) + "\n"
                if (out.length + line.length > MAX_RESPONSE_PAYLOAD) break
                out += line
            }
            return out === "" && recs.length > 0 ? REFUSED + "record " + recs[0].seq + " does not fit one packet" : out
        }
        // START, SET_RATE, BOLUS, LOAD_PROGRAM (0x30..0x33): refused however they are signed.
        if (c >= CMD_START && c <= CMD_LOAD_PROGRAM) return REFUSED + "remote therapy control is not permitted"
        // (c | 1): pairs of commands that differ in bit 0 only (0x20/0x21, 0x40/0x41).
        if ((c | 1) === CMD_CE_CLEAR_OOS) {
            if (k !== KEY_ENGINEERING) return REFUSED + "needs the clinical-engineering key"
            let r: CommandResult
            if (c === CMD_CE_SET_OOS) {
                const reason = bytesText(p)
                if (!reason) return REFUSED + "a reason text is required"
                r = ctx.pump.setOutOfService(nowMs, "CE: " + reason)
            } else {
                r = ctx.pump.returnToService(nowMs)
                if (r.ok) ctx.log.record(nowMs, "CE_CLEARED", "out-of-service cleared by clinical engineering (ctr=" + req.counter + ")")
            }
            return (r.ok ? "" : REFUSED) + r.reason
        }
        if ((c | 1) === CMD_RESYNC) {
            // Authenticated re-synchronisation of a locked role (docs/security.md "Re-synchronisation").
            if (!ctx.replay.locked[k]) return REFUSED + "role is not locked"
            if (c === CMD_RESYNC_CHALLENGE) {
                if (!ctx.random) return REFUSED + "no random source: re-key this role"
                const n = ctx.random(RESYNC_NONCE_BYTES)
                if (!n || n.length !== RESYNC_NONCE_BYTES) return REFUSED + "random source failed"
                this.nonce[k] = n
                this.nonceMs[k] = nowMs
                let hex = "nonce="
                for (let i = 0; i < n.length; i++) hex += HEX_DIGITS[(n[i] >> 4) & 15] + HEX_DIGITS[n[i] & 15]
                return hex
            }
            const n = this.nonce[k]
            const ageMs = nowMs - this.nonceMs[k]
            // One attempt per nonce, used or not.
            this.nonce[k] = null
            if (!n || ageMs > RESYNC_NONCE_TTL_MS || ageMs < 0) return REFUSED + "no current challenge"
            if (!constantTimeEqual(n, p)) return REFUSED + "nonce does not match the challenge"
            if (req.counter < 1 || req.counter >= COUNTER_MAX) return REFUSED + "counter out of range"
            ctx.replay.set(k, req.counter)
            ctx.log.record(nowMs, "REMOTE_RESYNC", "key=" + k + " counter re-synchronised to " + req.counter)
            return "resynchronised ctr=" + req.counter
        }
        if (c === CMD_LIB_BEGIN) {
            // Board images carry their library in the program image (REQ-BUD-004): no installer,
            // so a transfer is refused before any buffer is allocated.
            if (!ctx.installer) return REFUSED + NO_REMOTE_LIBRARY
            if (p.length !== 4) return REFUSED + "LIB_BEGIN needs length u32"
            const total = u32At(p, 0)
            if (total < 1 || total > MAX_LIBRARY_BYTES) return REFUSED + "library size " + total + " outside 1.." + MAX_LIBRARY_BYTES
            this.lib = Buffer.alloc(total)
            this.libLen = 0
            this.libLastMs = nowMs
            ctx.log.record(nowMs, "LIBRARY_UPDATE", "transfer started, " + total + " bytes")
            return "ready"
        }
        if (c === CMD_LIB_CHUNK || c === CMD_LIB_COMMIT) {
            const lib = this.lib
            let len = this.libLen
            if (!lib) return REFUSED + "no library transfer in progress"
            if (c === CMD_LIB_CHUNK) {
                if (p.length < 5) return REFUSED + "LIB_CHUNK needs offset u32 + data"
                const offset = u32At(p, 0)
                if (offset !== len) return REFUSED + "chunk offset " + offset + ", expected " + len
                if (offset + p.length - 4 > lib.length) return REFUSED + "chunk runs past the announced size"
                // Payload elements are bytes (parseFrame checked each one).
                for (let i = 4; i < p.length; i++) lib[len++] = p[i]
                this.libLen = len
                this.libLastMs = nowMs
                return "" + len
            }
            // Commit: the installer checks the library's own signature and content.
            if (len !== lib.length) return REFUSED + "library incomplete: " + len + "/" + lib.length
            this.lib = null
            const r = ctx.installer.install(nowMs, lib)
            ctx.log.record(nowMs, "LIBRARY_UPDATE", (r.ok ? "installed " : "refused: " + r.reason + " ") + len + " bytes via remote (ctr=" + req.counter + ")")
            return r.ok ? "installed" : REFUSED_LOGGED + r.reason
        }
        return REFUSED + "unknown command"
    }
}
