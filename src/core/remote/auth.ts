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

/** Per-device keys by key id; null = not provisioned (the device then refuses that role). */
export interface KeyRing {
    key(keyId: number): number[]
}

/** Compares all bytes whatever the first difference, so timing does not reveal a MAC prefix. */
export function constantTimeEqual(a: number[], b: number[]): boolean {
    if (a.length !== b.length) return false
    let diff = 0
    for (let i = 0; i < a.length; i++) diff = diff | (a[i] ^ b[i])
    return diff === 0
}

function hexVal(c: number): number {
    if (c >= 48 && c <= 57) return c - 48
    if (c >= 97 && c <= 102) return c - 87
    if (c >= 65 && c <= 70) return c - 55
    return -1
}

/** Keys that have appeared in this repository (test, benchmark and example keys, test vectors):
 *  public, so never a secret. A test scans the repository for 64-hex-digit strings and fails if
 *  one is missing here. Lower case. */
export const PUBLIC_KEYS_HEX: string[] = [
    "3b1f0c9a5e7d2468ace13579bdf02468a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "c0ffee00112233445566778899aabbccddeeff0123456789abcdef0011223344",
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
]

/** Fewer distinct byte values than this in 32 bytes is a pattern, not a random key (32 random
 *  bytes have about 30 distinct values; fewer than 16 has probability below 1e-9). */
export const MIN_DISTINCT_KEY_BYTES = 16

function lowerHex(hex: string): string {
    let s = ""
    for (let i = 0; i < hex.length; i++) {
        const c = hex.charCodeAt(i)
        s += String.fromCharCode(c >= 65 && c <= 70 ? c + 32 : c)
    }
    return s
}

/** Why a provisioned key text is refused ("" if it is usable). Case-insensitive throughout. */
export function keyProblem(hex: string): string {
    if (!hex) return "not provisioned"
    if (hex.length !== KEY_BYTES * 2) return "must be " + KEY_BYTES * 2 + " hex digits"
    for (let i = 0; i < hex.length; i++) if (hexVal(hex.charCodeAt(i)) < 0) return "not hex"
    const b: number[] = []
    for (let i = 0; i < hex.length; i += 2) b.push(hexVal(hex.charCodeAt(i)) * 16 + hexVal(hex.charCodeAt(i + 1)))
    const seen: boolean[] = []
    for (let i = 0; i < 256; i++) seen.push(false)
    let distinct = 0
    for (let i = 0; i < b.length; i++) {
        if (!seen[b[i]]) distinct++
        seen[b[i]] = true
    }
    // A key with one repeated byte (all zeros, all 0xFF...) is a placeholder, not a secret.
    if (distinct === 1) return "placeholder key (one repeated byte)"
    if (distinct < MIN_DISTINCT_KEY_BYTES) return "low-entropy key (" + distinct + " distinct byte values)"
    // Counting keys (00 01 02 ..., or any constant step) have 32 distinct bytes and no secret.
    let constantStep = true
    for (let i = 2; i < b.length; i++) if (((b[i] - b[i - 1]) & 255) !== ((b[1] - b[0]) & 255)) constantStep = false
    if (constantStep) return "low-entropy key (constant step between bytes)"
    const low = lowerHex(hex)
    for (let i = 0; i < PUBLIC_KEYS_HEX.length; i++) if (PUBLIC_KEYS_HEX[i] === low) return "public key (it appears in the source repository)"
    return ""
}

/** True if two key texts are the same key (case-insensitive; both must be well-formed). */
export function sameKey(a: string, b: string): boolean {
    return !!a && !!b && a.length === KEY_BYTES * 2 && lowerHex(a) === lowerHex(b)
}

/** Per-role problems of a key set: each role's own problem, or that it equals another role's
 *  key (the gateway key could then clear out of service, or sign libraries). `libHex` is the
 *  drug-library signing key ("" if none). Returns [gateway, engineering, library] ("" = usable). */
export function keySetProblems(gwHex: string, ceHex: string, libHex: string): string[] {
    const out = [keyProblem(gwHex), keyProblem(ceHex), keyProblem(libHex)]
    const keys = [gwHex, ceHex, libHex]
    const names = ["gateway", "engineering", "library"]
    for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++)
            if (i !== j && out[i] === "" && sameKey(keys[i], keys[j])) out[i] = "equals the " + names[j] + " key (one key per role)"
    return out
}

export function parseKey(hex: string): number[] {
    if (keyProblem(hex) !== "") return null
    const out: number[] = []
    for (let i = 0; i < hex.length; i += 2) out.push(hexVal(hex.charCodeAt(i)) * 16 + hexVal(hex.charCodeAt(i + 1)))
    return out
}

/** Keys from provisioning text (device settings / .env.local); refused keys read as null.
 *  `libraryHex` (optional) is the library signing key: a remote key equal to it is refused.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class HexKeyRing implements KeyRing {
    private readonly keys: number[][] = []

    constructor(gatewayHex: string, engineeringHex: string, libraryHex?: string) {
        const p = keySetProblems(gatewayHex, engineeringHex, libraryHex ? libraryHex : "")
        this.keys.push(p[0] === "" ? parseKey(gatewayHex) : null)
        this.keys.push(p[1] === "" ? parseKey(engineeringHex) : null)
    }

    key(keyId: number): number[] {
        return keyId >= 0 && keyId < this.keys.length ? this.keys[keyId] : null
    }
}

function strictUint(s: string): number {
    const n = parseInt(s)
    return !isNaN(n) && n >= 0 && n <= 4294967295 && "" + n === s ? n : -1
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
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class ReplayCounters {
    private readonly cell: DurableCell
    private readonly last: number[] = [0, 0]
    private readonly locked: boolean[] = [true, true]

    constructor(cell: DurableCell) {
        this.cell = cell
        const t = cell.get()
        if (t === null || !cell.intact()) return
        const f = t.split("|")
        if (f.length !== 3 || (f[0] !== "v1" && f[0] !== "v2")) return
        for (let k = 0; k < 2; k++) {
            if (f[0] === "v2" && f[k + 1] === "L") continue
            const n = strictUint(f[k + 1])
            if (n < 0) {
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

    set(keyId: number, counter: number) {
        this.last[keyId] = counter
        this.persist()
    }

    /** End of an authenticated re-synchronisation: the role continues above `counter`. */
    resync(keyId: number, counter: number) {
        this.last[keyId] = counter
        this.locked[keyId] = false
        this.persist()
    }

    private persist() {
        const t = "v2|" + (this.locked[0] ? "L" : "" + this.last[0]) + "|" + (this.locked[1] ? "L" : "" + this.last[1])
        this.cell.set(t)
        // A first write (or one after a lost slot) leaves one valid slot, which reads back as
        // "not proven current": write the same value again so the pair is intact.
        if (!this.cell.intact()) this.cell.set(t)
    }
}
