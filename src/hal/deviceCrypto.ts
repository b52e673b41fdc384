// HMAC-SHA256 for the remote interface core and the drug library, backed by the VM's native SHA-256.

import { hmac } from "@devicescript/crypto"
import { toBuffer, toBytes } from "../core/bytes"
import { HmacSha256 } from "../core/remote/auth"

export const deviceHmac: HmacSha256 = {
    mac: (key: number[], data: number[]) => toBytes(hmac(toBuffer(key), "sha256", toBuffer(data))),
}

export function deviceHmacBuffer(key: Buffer, data: Buffer): Buffer {
    return hmac(key, "sha256", data)
}

export { toBuffer, toBytes }
