// HMAC-SHA256 for the remote interface core and the drug library, backed by the VM's native SHA-256.

import { hmac, randomBuffer } from "@devicescript/crypto"
import { toBuffer, toBytes } from "../core/bytes"
import { HmacSha256 } from "../core/remote/auth"

/** HMAC-SHA256 over byte arrays, for the remote interface core. Made on request, not a
 *  module-level object: module-level code is in every image that imports this file, and only
 *  images that start the remote link need it (createRemoteDeviceServices, TODO-CODE-1). */
export function createRemoteHmac(): HmacSha256 {
    return { mac: (key: number[], data: number[]) => toBytes(hmac(toBuffer(key), "sha256", toBuffer(data))) }
}

export function deviceHmacBuffer(key: Buffer, data: Buffer): Buffer {
    return hmac(key, "sha256", data)
}

export { toBuffer, toBytes }

/** Cryptographically strong random bytes (re-synchronisation nonces, test keys). */
export function randomBytes(n: number): number[] {
    return toBytes(randomBuffer(n))
}

/** `n` random bytes as lower-case hex (a fresh key per run: repository keys are refused). */
export function randomHex(n: number): string {
    const digits = "0123456789abcdef"
    const b = randomBytes(n)
    let s = ""
    for (let i = 0; i < b.length; i++) s += digits.charAt((b[i] >> 4) & 15) + digits.charAt(b[i] & 15)
    return s
}
