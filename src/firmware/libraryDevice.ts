// Device side of the drug library: HMAC-SHA256 with the provisioned per-device key
// (the device services' native HMAC), persistence in settings (chunked, two banks, commit record written
// last), and the install/restore sequence of src/core/druglib/store.ts with yields between parse
// steps (long synchronous loops trap in the VM).

import { EventSink } from "../core/eventLog"
import { LibraryParser, ParseResult } from "../core/druglib/parse"
import { InstallResult, LibraryStore, MAC_BYTES, MacVerifier } from "../core/druglib/store"
import { PumpState } from "../core/pumpStates"
import { Clock } from "../core/clock"
import { keyBytes, keySetProblems } from "../core/remote/auth"
import { DeviceServices, SettingsAccess } from "../hal/types"
import { writeVerified } from "../core/persist/mirrorPageStore"

import { CHUNK_BYTES, CUR_SETTING, KEY_SETTING } from "../core/persist/settingsLayout"
export const MAX_CHUNKS = 180

function chunkKey(bank: string, i: number): string {
    return "dlib" + bank + (i < 10 ? "00" : i < 100 ? "0" : "") + i
}

/** A setting's bytes; null when missing or when the read timed out (then the library or key is
 *  refused and logged as missing, never half-read). */
async function readOrNull(settings: SettingsAccess, key: string): Promise<Buffer> {
    try {
        return await settings.readBytes(key)
    } catch (e) {
        return null
    }
}

/** Reads the device key; null (and a log record saying why) when absent or refused. Accepts the
 *  64 hex digits raw or JSON-quoted (as writeSetting / .env provisioning store them). */
export async function loadDeviceKey(settings: SettingsAccess, log: EventSink, nowMs: number): Promise<Buffer> {
    const raw = await readOrNull(settings, KEY_SETTING)
    // One refusal path: `why` says what is wrong ("" when the key is good).
    let why = "no device key in setting " + KEY_SETTING
    let key: Buffer = null
    if (raw) {
        let text = raw.toString()
        if (text.length >= 2 && text.charAt(0) === "\"" && text.charAt(text.length - 1) === "\"") text = text.slice(1, text.length - 1)
        // The key rules of the remote interface (auth.ts, issue 13) decide: 64 hex digits in any
        // letter case; no placeholder, low-entropy or public key; no key equal to a remote-interface
        // key (whoever holds the gateway key could then sign libraries).
        why = keySetProblems(await settings.readText("RKEY_GW"), await settings.readText("RKEY_CE"), text)[2]
        if (why !== "") why = "device key refused: " + why
        else key = Buffer.from(keyBytes(text))
    }
    if (why !== "") {
        log.record(nowMs, "DLIB_NO_KEY", why + "; every drug library will be refused")
        return null
    }
    return key
}

/** The library key as 64 hex digits ("" if none), for the remote key ring's equality check. */
export async function deviceKeyHex(settings: SettingsAccess): Promise<string> {
    const raw = await readOrNull(settings, KEY_SETTING)
    if (!raw) return ""
    let hex = ""
    for (let i = 0; i < raw.length; i++) if (raw[i] !== 34) hex += String.fromCharCode(raw[i])
    return hex
}

/** The explicit provisioning step (service mode / factory): stores the 64-hex-digit key. */
export async function provisionDeviceKey(settings: SettingsAccess, hex64: string) {
    if (hex64.length !== 64) throw new RangeError("device key must be 64 hex digits")
    await settings.writeBytes(KEY_SETTING, Buffer.from(hex64))
}

export function cryptoVerifier(key: Buffer, hmacSha256: (key: Buffer, data: Buffer) => Buffer): MacVerifier {
    return {
        hasKey: () => key !== null,
        verify: (body: Buffer, mac: Buffer) => {
            if (key === null || mac.length !== MAC_BYTES) return false
            const want = hmacSha256(key, body)
            // Constant time: no early exit on the first differing byte.
            let diff = 0
            for (let i = 0; i < MAC_BYTES; i++) diff = diff | (want[i] ^ mac[i])
            return diff === 0
        },
    }
}

/** The commit record ("A,<bytes>" or "B,<bytes>"), "" when none. */
async function readCommit(settings: SettingsAccess): Promise<string> {
    const raw = await readOrNull(settings, CUR_SETTING)
    return raw ? raw.toString() : ""
}

/** Persists the signed library into the bank not in use, then switches the commit record, so
 *  a power cut mid-write leaves the previous library intact. */
export async function persistSigned(settings: SettingsAccess, signed: Buffer) {
    const cur = await readCommit(settings)
    const bank = cur.length > 0 && cur.charAt(0) === "A" ? "B" : "A"
    const n = Math.ceil(signed.length / CHUNK_BYTES)
    if (n > MAX_CHUNKS) throw new RangeError("library too large to persist")
    for (let i = 0; i <= n; i++) {
        const end = (i + 1) * CHUNK_BYTES < signed.length ? (i + 1) * CHUNK_BYTES : signed.length
        // The commit record last (i === n); every write read back (REQ-PERS-010), so a library
        // that did not reach flash is refused, never reported installed.
        const bad = await writeVerified(settings, i < n ? chunkKey(bank, i) : CUR_SETTING, i < n ? signed.slice(i * CHUNK_BYTES, end) : Buffer.from(bank + n + "," + signed.length))
        if (bad.length > 0) {
            // A chunk failed (typically the area is full): empty what this attempt wrote, so a
            // half-written bank does not keep the area full for the log and snapshot. Not after a
            // failed commit record: it may have landed, and then this bank is the one in force.
            if (i < n) await emptyBank(settings, bank, i + 1)
            throw new Error("write failed: " + bad)
        }
    }
    // The superseded bank is emptied, so one library is held, not two (REQ-BUD-004).
    if (cur.length > 0) await emptyBank(settings, cur.charAt(0), parseInt(cur.slice(1, cur.indexOf(","))))
}

/** Empties chunks 0..n-1 of `bank` (fstor keeps a 32-byte empty entry and frees the data at its
 *  next gc). Best effort: a failure leaves the old data, which only costs space. */
async function emptyBank(settings: SettingsAccess, bank: string, n: number) {
    for (let i = 0; i < n && i < MAX_CHUNKS; i++) {
        try {
            await settings.writeBytes(chunkKey(bank, i), Buffer.alloc(0))
        } catch (e) {}
    }
}

/** The persisted signed library, or null with the reason. */
export async function readPersisted(settings: SettingsAccess): Promise<{ signed: Buffer; reason: string }> {
    const cur = await readCommit(settings)
    if (cur.length === 0) return { signed: null, reason: "no library persisted" }
    const comma = cur.indexOf(",")
    const bank = cur.charAt(0)
    const n = parseInt(cur.slice(1, comma))
    const len = parseInt(cur.slice(comma + 1))
    if ((bank !== "A" && bank !== "B") || comma < 2 || !(n >= 1 && n <= MAX_CHUNKS) || !(len > MAC_BYTES && len <= n * CHUNK_BYTES))
        return { signed: null, reason: "commit record '" + cur + "' is malformed" }
    const out = Buffer.alloc(len)
    let at = 0
    for (let i = 0; i < n; i++) {
        const c = await readOrNull(settings, chunkKey(bank, i))
        if (!c || at + c.length > len) return { signed: null, reason: "chunk " + i + " of bank " + bank + " is missing or too long" }
        out.set(c, at)
        at += c.length
    }
    if (at !== len) return { signed: null, reason: "persisted library is " + at + " bytes, commit record says " + len }
    return { signed: out, reason: "" }
}

async function parseWithYields(clock: Clock, body: Buffer): Promise<ParseResult> {
    const p = new LibraryParser(body)
    while (!p.step()) await clock.sleep(0)
    return p
}

function splitSigned(signed: Buffer) {
    if (!signed || signed.length <= MAC_BYTES) return null
    return { body: signed.slice(0, signed.length - MAC_BYTES), mac: signed.slice(signed.length - MAC_BYTES, signed.length) }
}

/** Install a signed library received over the service interface. The old library stays in force
 *  (and the reason is logged) unless every check passes and the new one is persisted. */
export async function installSigned(store: LibraryStore, state: PumpState, signed: Buffer, nowMs: number, dev: DeviceServices): Promise<InstallResult> {
    const s = splitSigned(signed)
    if (!s) return store.reject(nowMs, "DLIB_REJECTED", "too short to hold a MAC")
    const g = store.gate(state, s.body, s.mac)
    if (g.length > 0) return store.reject(nowMs, "DLIB_REJECTED", g)
    const parsed = await parseWithYields(dev.clock, s.body)
    const j = store.judge(parsed, s.mac)
    if (j.length > 0) return store.reject(nowMs, "DLIB_REJECTED", j)
    try {
        await persistSigned(dev.settings, signed)
    } catch (e) {
        return store.reject(nowMs, "DLIB_REJECTED", "cannot persist: " + (e as Error).message)
    }
    store.commit(nowMs, parsed.library, s.mac, "DLIB_INSTALLED")
    return { ok: true, reason: "" }
}

/** Boot: load the persisted library and verify it again with the device key. */
export async function restorePersisted(store: LibraryStore, nowMs: number, dev: DeviceServices): Promise<InstallResult> {
    const r = await readPersisted(dev.settings)
    if (!r.signed) return store.reject(nowMs, "DLIB_RESTORE_FAILED", r.reason)
    return await verifyAtBoot(store, nowMs, dev, r.signed)
}

/** Boot check of a signed library (from settings, or carried in the program image): HMAC with the
 *  device key, then a full parse; refused and logged as DLIB_RESTORE_FAILED unless both pass, so
 *  no library is ever presumed valid. */
export async function verifyAtBoot(store: LibraryStore, nowMs: number, dev: DeviceServices, signed: Buffer): Promise<InstallResult> {
    // One refusal path: `why` says what is wrong ("" when the library is good). The split and the
    // parse with yields are written out here, not by splitSigned/parseWithYields: the board and HIL
    // images verify at boot only, so this saves them two functions.
    let why = "no library, or too short to hold a MAC"
    const n = signed ? signed.length - MAC_BYTES : 0
    if (n > 0) {
        const body = signed.slice(0, n)
        const mac = signed.slice(n, signed.length)
        why = store.gate(null, body, mac)
        if (why === "") {
            const p = new LibraryParser(body)
            while (!p.step()) await dev.clock.sleep(0)
            if (p.ok) {
                // Entries are decoded from the bytes on demand: keep them in `signed` (the body is
                // its prefix), not in the body's heap copy, so a library built into the image is
                // read from flash and the 6 KB copy is freed (REQ-HEAP-003).
                p.library.bytes = signed
                store.commit(nowMs, p.library, mac, "DLIB_RESTORED")
                return { ok: true, reason: "" }
            }
            why = "malformed library: " + p.error
        }
    }
    return store.reject(nowMs, "DLIB_RESTORE_FAILED", why)
}
