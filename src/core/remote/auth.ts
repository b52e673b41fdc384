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

/** Highest accepted counter per key id, persisted so a reboot does not reopen old packets. */
export class ReplayCounters {
    private readonly cell: DurableCell
    private readonly last: number[] = [0, 0]

    constructor(cell: DurableCell) {
        this.cell = cell
        const t = cell.get()
        // null = never written (fresh pump): counters start at 0. Anything written but not a
        // strict "v1|<n>|<n>" locks both roles (until re-keying) rather than reopen old packets.
        if (t !== null) {
            const f = t.split("|")
            const a = f.length === 3 && f[0] === "v1" ? strictUint(f[1]) : -1
            const b = f.length === 3 && f[0] === "v1" ? strictUint(f[2]) : -1
            const ok = a >= 0 && b >= 0
            this.last[0] = ok ? a : 4294967295
            this.last[1] = ok ? b : 4294967295
        }
    }

    get(keyId: number): number {
        return this.last[keyId]
    }

    set(keyId: number, counter: number) {
        this.last[keyId] = counter
        this.cell.set("v1|" + this.last[0] + "|" + this.last[1])
    }
}
