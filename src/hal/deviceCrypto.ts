// HMAC-SHA256 for the remote interface core, backed by the VM's native SHA-256.

import { hmac } from "@devicescript/crypto"
import { HmacSha256 } from "../core/remote/auth"

function toBuffer(a: number[]): Buffer {
    const b = Buffer.alloc(a.length)
    for (let i = 0; i < a.length; i++) b[i] = a[i]
    return b
}

export function toBytes(b: Buffer): number[] {
    const out: number[] = []
    for (let i = 0; i < b.length; i++) out.push(b[i])
    return out
}

export const deviceHmac: HmacSha256 = {
    mac: (key: number[], data: number[]) => toBytes(hmac(toBuffer(key), "sha256", toBuffer(data))),
}

export { toBuffer }
