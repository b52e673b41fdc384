// HMAC-SHA256 signing of the compact library with a per-device key (never a key in the repo).

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { readFileSync } from "node:fs"
import { MAC_BYTES } from "../../src/core/druglib/store"
import { keyProblem } from "../../src/core/remote/auth"

export const KEY_BYTES = 32

/** A key file holds 64 hex digits (32 bytes), optionally followed by a newline. */
export function readKeyFile(path: string): Buffer {
    const text = readFileSync(path, "utf8").trim()
    if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(path + ": a device key file must hold exactly 64 hex digits (32 bytes)")
    // The same hygiene rules as the pump (placeholder, low-entropy, repository keys): a library
    // signed with such a key would be refused by every pump anyway.
    const problem = keyProblem(text)
    if (problem !== "") throw new Error(path + ": key refused: " + problem)
    return Buffer.from(text, "hex")
}

export function newKeyHex(): string {
    return randomBytes(KEY_BYTES).toString("hex")
}

export function mac(key: Buffer, body: Uint8Array): Buffer {
    return createHmac("sha256", key).update(body).digest()
}

export function sign(key: Buffer, body: Uint8Array): Buffer {
    return Buffer.concat([Buffer.from(body), mac(key, body)])
}

/** Splits a signed library into body and MAC; null if too short to hold a MAC. */
export function split(signed: Uint8Array): { body: Buffer; mac: Buffer } | null {
    if (signed.length <= MAC_BYTES) return null
    const b = Buffer.from(signed)
    return { body: b.subarray(0, b.length - MAC_BYTES), mac: b.subarray(b.length - MAC_BYTES) }
}

/** Host implementation of the firmware's MacVerifier (tests and `druglib check --key`). */
export function nodeVerifier(key: Buffer | null) {
    return {
        hasKey: () => key !== null,
        verify: (body: ArrayLike<number>, m: ArrayLike<number>) => {
            if (!key) return false
            const want = mac(key, Uint8Array.from(body as ArrayLike<number>))
            const got = Buffer.from(Uint8Array.from(m as ArrayLike<number>))
            return got.length === want.length && timingSafeEqual(got, want)
        },
    }
}
