// Authentication primitives for the remote interface. The HMAC itself is injected (node:crypto
// on the host, @devicescript/crypto on the device) so this core stays pure and testable.

import { DurableCell } from "../log/durableCell"

export interface HmacSha256 {
    /** HMAC-SHA256(key, data): 32 bytes. */
    mac(key: number[], data: number[]): number[]
}

export const KEY_BYTES = 32
export const KEY_GATEWAY = 0
export const KEY_ENGINEERING = 1

/** Per-device keys by key id (0 gateway, 1 engineering); null = not provisioned (the device
 *  then refuses that role). */
export interface KeyRing {
    readonly keys: number[][]
}

/** Compares all bytes whatever the first difference, so timing does not reveal a MAC prefix. */
export function constantTimeEqual(a: number[], b: number[]): boolean {
    if (a.length !== b.length) return false
    let diff = 0
    for (let i = 0; i < a.length; i++) diff = diff | (a[i] ^ b[i])
    return diff === 0
}

/** Lower-case hex digits, in value order. */
export const HEX_DIGITS = "0123456789abcdef"

/** Keys that have appeared in this repository (test, benchmark and example keys, test vectors):
 *  public, so never a secret. A test scans the repository for 64-hex-digit strings and fails if
 *  one is missing here. Lower case, one space between keys (a string is data, not image code). */
export const PUBLIC_KEYS_HEX =
    "3b1f0c9a5e7d2468ace13579bdf02468a1b2c3d4e5f60718293a4b5c6d7e8f90 " +
    "c0ffee00112233445566778899aabbccddeeff0123456789abcdef0011223344 " +
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

/** Fewer distinct byte values than this in 32 bytes is a pattern, not a random key (32 random
 *  bytes have about 30 distinct values; fewer than 16 has probability below 1e-9). */
export const MIN_DISTINCT_KEY_BYTES = 16

/** The bytes of a key text of KEY_BYTES * 2 hex digits in any letter case; null if any is not a
 *  hex digit. */
export function keyBytes(hex: string): number[] {
    const low = hex.toLowerCase()
    const b: number[] = []
    let x = 0
    for (let i = 0; i < KEY_BYTES * 2; i++) {
        const v = HEX_DIGITS.indexOf(low[i])
        if (v < 0) return null
        x = x * 16 + v
        // Two digits a byte, high digit first.
        if (i & 1) {
            b.push(x)
            x = 0
        }
    }
    return b
}

/** Why a provisioned key text is refused ("" if it is usable). Case-insensitive throughout. */
export function keyProblem(hex: string): string {
    if (!hex) return "not provisioned"
    if (hex.length !== KEY_BYTES * 2) return "must be 64 hex digits"
    const b = keyBytes(hex)
    if (!b) return "not hex"
    let distinct = 0
    for (let i = 0; i < b.length; i++) if (b.indexOf(b[i]) === i) distinct++
    // A key with one repeated byte (all zeros, all 0xFF...) is a placeholder, not a secret.
    if (distinct === 1) return "placeholder key (one repeated byte)"
    if (distinct < MIN_DISTINCT_KEY_BYTES) return "low-entropy key (" + distinct + " distinct byte values)"
    // Counting keys (00 01 02 ..., or any constant step) have 32 distinct bytes and no secret.
    let constantStep = true
    for (let i = 2; i < b.length; i++) if (((b[i] - b[i - 1]) & 255) !== ((b[1] - b[0]) & 255)) constantStep = false
    if (constantStep) return "low-entropy key (constant step between bytes)"
    if (PUBLIC_KEYS_HEX.indexOf(hex.toLowerCase()) >= 0) return "public key (it appears in the source repository)"
    return ""
}

/** Per-role problems of a key set: each role's own problem, or that it equals another role's
 *  key, case-insensitively (the gateway key could then clear out of service, or sign
 *  libraries). `libHex` is the drug-library signing key ("" or undefined if none). Returns [gateway,
 *  engineering, library] ("" = usable). */
export function keySetProblems(gwHex: string, ceHex: string, libHex: string): string[] {
    const keys = [gwHex, ceHex, libHex]
    const out: string[] = []
    const low: string[] = []
    for (let i = 0; i < 3; i++) {
        out.push(keyProblem(keys[i]))
        low.push(out[i] ? "" : keys[i].toLowerCase())
    }
    // Only well-formed keys are compared (a key equal to a usable one is usable itself). The
    // first other role with the same key is named.
    for (let i = 0; i < 3; i++) {
        let j = low.indexOf(low[i])
        if (j === i) j = low.indexOf(low[i], i + 1)
        if (low[i] && j >= 0) out[i] = "equals the " + "gateway engineering library".split(" ")[j] + " key (one key per role)"
    }
    return out
}

/** Keys from provisioning text (device settings / .env.local); refused keys read as null.
 *  `libraryHex` (optional) is the library signing key: a remote key equal to it is refused.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class HexKeyRing implements KeyRing {
    readonly keys: number[][]

    constructor(gatewayHex: string, engineeringHex: string, libraryHex?: string) {
        const p = keySetProblems(gatewayHex, engineeringHex, libraryHex)
        this.keys = [p[0] ? null : keyBytes(gatewayHex), p[1] ? null : keyBytes(engineeringHex)]
    }
}

export const COUNTER_MAX = 4294967295

/** Highest accepted counter per key id, persisted so a reboot does not reopen old packets.
 *  Fail closed: a role whose stored counter cannot be proven current is LOCKED (every request
 *  of that role is dropped as a replay) until the authenticated re-synchronisation in
 *  RemoteEndpoint (RESYNC_CHALLENGE / RESYNC, docs/security.md) sets a new counter. "Proven
 *  current" means the cell reads back as an intact pair of consecutive versions (DurableCell
 *  .intact()) holding "v2|<n|L>|<n|L>" (or the older "v1|<n>|<n>"). A blank cell (a fresh pump, or
 *  a settings read that timed out), a corrupt cell and a cell of which only one slot survives
 *  all lock both roles: none of them can be told apart from a lost newer value.
 *  `last[k]` is meaningful only while `locked[k]` is false.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class ReplayCounters {
    private readonly cell: DurableCell
    readonly last: number[] = []
    readonly locked: boolean[] = [true, true]

    constructor(cell: DurableCell) {
        this.cell = cell
        const t = cell.value
        if (t === null || !cell.intact()) return
        const f = t.split("|")
        const v2 = f[0] === "v2"
        if (f.length !== 3 || (!v2 && f[0] !== "v1")) return
        for (let k = 0; k < 2; k++) {
            const s = f[k + 1]
            if (v2 && s === "L") continue
            // A plain decimal u32, nothing else (no sign, exponent, leading zero or space; NaN
            // fails the range test).
            const n = parseInt(s)
            if (!(n >= 0 && n <= COUNTER_MAX) || "" + n !== s) {
                this.locked[0] = true
                this.locked[1] = true
                return
            }
            this.last[k] = n
            this.locked[k] = false
        }
    }

    /** Highest accepted counter; COUNTER_MAX while the role is locked (nothing is newer). */
    get(keyId: number): number {
        return this.locked[keyId] ? COUNTER_MAX : this.last[keyId]
    }

    isLocked(keyId: number): boolean {
        return this.locked[keyId]
    }

    /** The role's counter is now `counter` and proven current: a verified request of an unlocked
     *  role, or the end of an authenticated re-synchronisation (which unlocks the role). Written
     *  before the request runs. */
    set(keyId: number, counter: number) {
        this.last[keyId] = counter
        this.locked[keyId] = false
        let t = "v2"
        for (let k = 0; k < 2; k++) t += "|" + (this.locked[k] ? "L" : this.last[k])
        this.cell.set(t)
        // A first write (or one after a lost slot) leaves one valid slot, which reads back as
        // "not proven current": write the same value again so the pair is intact.
        if (!this.cell.intact()) this.cell.set(t)
    }
}
