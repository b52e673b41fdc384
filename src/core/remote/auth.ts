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

/** Why a provisioned key text is refused ("" if it is usable). */
export function keyProblem(hex: string): string {
    if (!hex) return "not provisioned"
    if (hex.length !== KEY_BYTES * 2) return "must be " + KEY_BYTES * 2 + " hex digits"
    for (let i = 0; i < hex.length; i++) if (hexVal(hex.charCodeAt(i)) < 0) return "not hex"
    // A key with one repeated byte (all zeros, all 0xFF...) is a placeholder, not a secret.
    let same = true
    for (let i = 2; i < hex.length; i += 2) if (hex.charAt(i) !== hex.charAt(0) || hex.charAt(i + 1) !== hex.charAt(1)) same = false
    if (same) return "placeholder key (one repeated byte)"
    return ""
}

export function parseKey(hex: string): number[] {
    if (keyProblem(hex) !== "") return null
    const out: number[] = []
    for (let i = 0; i < hex.length; i += 2) out.push(hexVal(hex.charCodeAt(i)) * 16 + hexVal(hex.charCodeAt(i + 1)))
    return out
}

/** Keys from provisioning text (device settings / .env.local); refused keys read as null. */
export class HexKeyRing implements KeyRing {
    private readonly keys: number[][] = []

    constructor(gatewayHex: string, engineeringHex: string) {
        this.keys.push(parseKey(gatewayHex))
        this.keys.push(parseKey(engineeringHex))
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
 *  all lock both roles: none of them can be told apart from a lost newer value. */
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
