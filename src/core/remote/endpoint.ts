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
import { COUNTER_MAX, HmacSha256, KEY_ENGINEERING, KEY_GATEWAY, KeyRing, ReplayCounters, constantTimeEqual } from "./auth"
import {
    asciiBytes,
    bytesText,
    CMD_BOLUS,
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
    CMD_SET_RATE,
    CMD_START,
    CMD_STATUS,
    CUT_MARK,
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
    /** Maintenance counter text for MAINT (null: not available). */
    maintenance: () => string
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

export interface AcceptedRequest {
    keyId: number
    counter: number
    command: number
    payload: number[]
}

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

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class RemoteEndpoint {
    private readonly ctx: RemoteContext
    readonly stats: RemoteStats = { received: 0, accepted: 0, malformed: 0, badMac: 0, replayed: 0, noKey: 0, rateLimited: 0, locked: 0, refused: 0 }
    private tokens = RATE_BURST
    private lastRefillMs = -1
    private lastAdmitMs = -1e9
    private dropsLogged = 0
    private lastDropLogMs = -DROP_LOG_INTERVAL_MS
    /** Transfer buffer, allocated once at LIB_BEGIN with the announced size. */
    private lib: Buffer = null
    private libLen = 0
    private libTotal = 0
    private libLastMs = 0
    /** Pending re-synchronisation nonce per key id (null: none). */
    private readonly nonce: number[][] = [null, null]
    private readonly nonceMs: number[] = [0, 0]

    constructor(ctx: RemoteContext) {
        this.ctx = ctx
    }

    drops(): number {
        const s = this.stats
        return s.malformed + s.badMac + s.replayed + s.noKey + s.rateLimited + s.locked
    }

    /** Authenticates a request; null means dropped (and counted). On success the replay counter
     *  is already advanced in storage: flush it before executing. Never throws. */
    accept(bytes: number[], nowMs: number): AcceptedRequest {
        if (!this.admit(nowMs, 0)) return null
        return this.acceptAdmitted(bytes, nowMs)
    }

    /** Rate limit, checked before the transport even converts the packet: a dropped packet
     *  then costs a few operations. Counts the packet as received. `spacingMs`: least time since
     *  the last admitted packet (the device passes ADMIT_SPACING_MS). */
    admit(nowMs: number, spacingMs: number): boolean {
        this.stats.received++
        if (this.takeToken(nowMs, spacingMs)) return true
        this.stats.rateLimited++
        this.noteDrops(nowMs)
        return false
    }

    /** accept() for a packet that admit() let through. */
    acceptAdmitted(bytes: number[], nowMs: number): AcceptedRequest {
        try {
            return this.acceptInner(bytes, nowMs)
        } catch (e) {
            // Defensive: an unexpected input must not take the firmware down.
            this.stats.malformed++
            this.noteDrops(nowMs)
            return null
        }
    }

    private acceptInner(bytes: number[], nowMs: number): AcceptedRequest {
        const f = parseFrame(bytes, MAX_PAYLOAD)
        if (!f || (f.b1 !== KEY_GATEWAY && f.b1 !== KEY_ENGINEERING)) {
            this.stats.malformed++
            this.noteDrops(nowMs)
            return null
        }
        const key = this.ctx.keys.key(f.b1)
        if (!key) {
            this.stats.noKey++
            this.noteDrops(nowMs)
            return null
        }
        const bodyLen = bytes.length - MAC_LEN
        const expected = this.ctx.hmac.mac(key, macInput("IPR1Q", this.ctx.deviceId, bytes, bodyLen))
        if (!constantTimeEqual(expected, bytes.slice(bodyLen))) {
            this.stats.badMac++
            this.noteDrops(nowMs)
            return null
        }
        if (this.ctx.replay.isLocked(f.b1)) {
            // Fail closed: only the re-synchronisation handshake gets through, and it moves no
            // counter here (RESYNC sets it after the nonce checks, in run()).
            if (f.command === CMD_RESYNC_CHALLENGE || f.command === CMD_RESYNC) {
                this.stats.accepted++
                return { keyId: f.b1, counter: f.counter, command: f.command, payload: f.payload }
            }
            this.stats.locked++
            this.noteDrops(nowMs)
            return null
        }
        if (f.counter <= this.ctx.replay.get(f.b1)) {
            this.stats.replayed++
            this.noteDrops(nowMs)
            return null
        }
        this.ctx.replay.set(f.b1, f.counter)
        this.stats.accepted++
        return { keyId: f.b1, counter: f.counter, command: f.command, payload: f.payload }
    }

    /** Runs an accepted request and returns the signed response frame. Never throws. */
    execute(req: AcceptedRequest, nowMs: number): number[] {
        let status = STATUS_OK
        let text = ""
        try {
            const r = this.run(req, nowMs)
            status = r.ok ? STATUS_OK : STATUS_REFUSED
            text = r.reason
        } catch (e) {
            status = STATUS_REFUSED
            text = "internal error"
            this.ctx.log.record(nowMs, "REMOTE_ERROR", "cmd=" + req.command + " " + e)
        }
        if (status === STATUS_REFUSED) this.stats.refused++
        let payload = asciiBytes(text)
        // One Jacdac packet per frame: a longer text is cut and marked, never sent oversized.
        if (payload.length > MAX_RESPONSE_PAYLOAD) {
            payload = payload.slice(0, MAX_RESPONSE_PAYLOAD - 1)
            payload.push(CUT_MARK.charCodeAt(0))
        }
        const body = frameBody({ b1: status, counter: req.counter, command: req.command, payload: payload }, MAX_RESPONSE_PAYLOAD)
        const mac = this.ctx.hmac.mac(this.ctx.keys.key(req.keyId), macInput("IPR1R", this.ctx.deviceId, body, body.length))
        for (let i = 0; i < mac.length; i++) body.push(mac[i])
        return body
    }

    /** Writes a pending drop summary; call now and then (e.g. once a second). */
    poll(nowMs: number) {
        this.noteDrops(nowMs)
        if (this.lib && nowMs - this.libLastMs > LIB_IDLE_TIMEOUT_MS) {
            this.ctx.log.record(nowMs, "LIBRARY_UPDATE", "transfer abandoned after " + this.libLen + "/" + this.libTotal + " bytes")
            this.lib = null
        }
    }

    // ---- internals ------------------------------------------------------------------------

    private takeToken(nowMs: number, spacingMs: number): boolean {
        if (this.lastRefillMs < 0 || nowMs < this.lastRefillMs) this.lastRefillMs = nowMs
        const add = Math.floor((nowMs - this.lastRefillMs) / RATE_REFILL_MS)
        if (add > 0) {
            this.tokens = this.tokens + add > RATE_BURST ? RATE_BURST : this.tokens + add
            this.lastRefillMs += add * RATE_REFILL_MS
        }
        if (this.tokens <= 0 || (nowMs - this.lastAdmitMs < spacingMs && nowMs >= this.lastAdmitMs)) return false
        this.tokens--
        this.lastAdmitMs = nowMs
        return true
    }

    /** One summary record per minute at most, so a flood cannot flush the event log. */
    private noteDrops(nowMs: number) {
        const d = this.drops()
        if (d === this.dropsLogged || nowMs - this.lastDropLogMs < DROP_LOG_INTERVAL_MS) return
        const s = this.stats
        this.ctx.log.record(
            nowMs,
            "REMOTE_DROP",
            "malformed=" + s.malformed + " badMac=" + s.badMac + " replayed=" + s.replayed + " noKey=" + s.noKey + " rateLimited=" + s.rateLimited + " locked=" + s.locked
        )
        this.dropsLogged = d
        this.lastDropLogMs = nowMs
    }

    private refuse(nowMs: number, req: AcceptedRequest, reason: string): CommandResult {
        this.ctx.log.record(nowMs, "REMOTE_REFUSED", "cmd=" + req.command + " key=" + req.keyId + " ctr=" + req.counter + ": " + reason)
        return { ok: false, reason: reason }
    }

    private run(req: AcceptedRequest, nowMs: number): CommandResult {
        const c = req.command
        const p = req.payload
        if (c === CMD_RESYNC_CHALLENGE || c === CMD_RESYNC) return this.resync(req, nowMs)
        if (c === CMD_STATUS) return { ok: true, reason: this.statusText() }
        if (c === CMD_MAINT) {
            if (!this.ctx.maintenance) return this.refuse(nowMs, req, "counters not available")
            return { ok: true, reason: this.ctx.maintenance() }
        }
        if (c === CMD_LOG_READ) {
            if (p.length !== 5) return this.refuse(nowMs, req, "LOG_READ needs fromSeq u32 + max u8")
            if (!this.ctx.logReader) return this.refuse(nowMs, req, "log not available")
            const recs = this.ctx.logReader.read(u32At(p, 0), p[4])
            let out = ""
            for (let i = 0; i < recs.length; i++) {
                const line = formatLogLine(this.ctx.deviceId, recs[i]) + "\n"
                if (out.length + line.length > MAX_RESPONSE_PAYLOAD) break
                out += line
            }
            if (out === "" && recs.length > 0) return this.refuse(nowMs, req, "record " + recs[0].seq + " does not fit one packet")
            return { ok: true, reason: out }
        }
        if (c === CMD_START || c === CMD_SET_RATE || c === CMD_BOLUS || c === CMD_LOAD_PROGRAM)
            return this.refuse(nowMs, req, "remote therapy control is not permitted")
        if (c === CMD_LIB_BEGIN || c === CMD_LIB_CHUNK || c === CMD_LIB_COMMIT) return this.library(req, nowMs)
        if (c === CMD_CE_SET_OOS || c === CMD_CE_CLEAR_OOS) {
            if (req.keyId !== KEY_ENGINEERING) return this.refuse(nowMs, req, "needs the clinical-engineering key")
            if (c === CMD_CE_SET_OOS) {
                const reason = bytesText(p, 0, p.length)
                if (reason.length === 0) return this.refuse(nowMs, req, "a reason text is required")
                const r = this.ctx.pump.setOutOfService(nowMs, "CE: " + reason)
                return r.ok ? r : this.refuse(nowMs, req, r.reason)
            }
            const r = this.ctx.pump.returnToService(nowMs)
            if (r.ok) this.ctx.log.record(nowMs, "CE_CLEARED", "out-of-service cleared by clinical engineering (ctr=" + req.counter + ")")
            return r.ok ? r : this.refuse(nowMs, req, r.reason)
        }
        return this.refuse(nowMs, req, "unknown command")
    }

    /** Authenticated re-synchronisation of a locked role (docs/security.md "Re-synchronisation"). */
    private resync(req: AcceptedRequest, nowMs: number): CommandResult {
        const k = req.keyId
        if (!this.ctx.replay.isLocked(k)) return this.refuse(nowMs, req, "role is not locked")
        if (req.command === CMD_RESYNC_CHALLENGE) {
            if (!this.ctx.random) return this.refuse(nowMs, req, "no random source: re-key this role")
            const n = this.ctx.random(RESYNC_NONCE_BYTES)
            if (!n || n.length !== RESYNC_NONCE_BYTES) return this.refuse(nowMs, req, "random source failed")
            this.nonce[k] = n
            this.nonceMs[k] = nowMs
            let hex = ""
            const digits = "0123456789abcdef"
            for (let i = 0; i < n.length; i++) hex += digits.charAt((n[i] >> 4) & 15) + digits.charAt(n[i] & 15)
            return { ok: true, reason: "nonce=" + hex }
        }
        const n = this.nonce[k]
        // One attempt per nonce, used or not.
        this.nonce[k] = null
        if (!n || nowMs - this.nonceMs[k] > RESYNC_NONCE_TTL_MS || nowMs < this.nonceMs[k]) return this.refuse(nowMs, req, "no current challenge")
        if (!constantTimeEqual(n, req.payload)) return this.refuse(nowMs, req, "nonce does not match the challenge")
        if (req.counter < 1 || req.counter >= COUNTER_MAX) return this.refuse(nowMs, req, "counter out of range")
        this.ctx.replay.resync(k, req.counter)
        this.ctx.log.record(nowMs, "REMOTE_RESYNC", "key=" + k + " counter re-synchronised to " + req.counter)
        return { ok: true, reason: "resynchronised ctr=" + req.counter }
    }

    private library(req: AcceptedRequest, nowMs: number): CommandResult {
        const p = req.payload
        if (req.command === CMD_LIB_BEGIN) {
            // Board images carry their library in the program image (REQ-BUD-004): no installer,
            // so a transfer is refused before any buffer is allocated.
            if (!this.ctx.installer) return this.refuse(nowMs, req, NO_REMOTE_LIBRARY)
            if (p.length !== 4) return this.refuse(nowMs, req, "LIB_BEGIN needs length u32")
            const total = u32At(p, 0)
            if (total < 1 || total > MAX_LIBRARY_BYTES) return this.refuse(nowMs, req, "library size " + total + " outside 1.." + MAX_LIBRARY_BYTES)
            this.lib = Buffer.alloc(total)
            this.libLen = 0
            this.libTotal = total
            this.libLastMs = nowMs
            this.ctx.log.record(nowMs, "LIBRARY_UPDATE", "transfer started, " + total + " bytes")
            return { ok: true, reason: "ready" }
        }
        if (!this.lib) return this.refuse(nowMs, req, "no library transfer in progress")
        if (req.command === CMD_LIB_CHUNK) {
            if (p.length < 5) return this.refuse(nowMs, req, "LIB_CHUNK needs offset u32 + data")
            const offset = u32At(p, 0)
            if (offset !== this.libLen) return this.refuse(nowMs, req, "chunk offset " + offset + ", expected " + this.libLen)
            if (offset + p.length - 4 > this.libTotal) return this.refuse(nowMs, req, "chunk runs past the announced size")
            for (let i = 4; i < p.length; i++) this.lib[this.libLen++] = p[i] & 0xff
            this.libLastMs = nowMs
            return { ok: true, reason: "" + this.libLen }
        }
        // Commit: the installer checks the library's own signature and content.
        if (this.libLen !== this.libTotal) return this.refuse(nowMs, req, "library incomplete: " + this.libLen + "/" + this.libTotal)
        const bytes = this.lib
        this.lib = null
        const r = this.ctx.installer.install(nowMs, bytes)
        this.ctx.log.record(nowMs, "LIBRARY_UPDATE", (r.ok ? "installed " : "refused: " + r.reason + " ") + bytes.length + " bytes via remote (ctr=" + req.counter + ")")
        return r.ok ? { ok: true, reason: "installed" } : { ok: false, reason: r.reason }
    }

    private statusText(): string {
        const s = this.ctx.pump.status()
        const st = this.stats
        return (
            "state=" + s.state + " rateUlh=" + s.rateUlPerH + " infusedUl=" + s.infusedUl + " vtbiUl=" + s.vtbiUl + " alarm=" + s.alarmCode +
            " oos=" + this.ctx.pump.outOfServiceText() + " rx=" + st.received + " dropped=" + this.drops()
        )
    }
}
