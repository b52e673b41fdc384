// Gateway side of the remote protocol: builds signed requests and checks signed responses.
// Used by host tools, tests and the in-VM flood benchmark.

import { constantTimeEqual, HmacSha256 } from "./auth"
import { bytesText, Frame, frameBody, MAC_LEN, macInput, MAX_PAYLOAD, MAX_RESPONSE_PAYLOAD, parseFrame } from "./packet"

export function buildRequest(hmac: HmacSha256, key: number[], deviceId: string, keyId: number, counter: number, command: number, payload: number[]): number[] {
    const body = frameBody(keyId, counter, command, payload, MAX_PAYLOAD)
    const mac = hmac.mac(key, macInput("IPR1Q", deviceId, body, body.length))
    for (let i = 0; i < mac.length; i++) body.push(mac[i])
    return body
}

export interface Response {
    status: number
    counter: number
    command: number
    text: string
}

/** Parses and authenticates a response; null if forged or malformed. */
export function verifyResponse(hmac: HmacSha256, key: number[], deviceId: string, bytes: number[]): Response {
    const f: Frame = parseFrame(bytes, MAX_RESPONSE_PAYLOAD)
    if (!f) return null
    const n = bytes.length - MAC_LEN
    if (!constantTimeEqual(hmac.mac(key, macInput("IPR1R", deviceId, bytes, n)), bytes.slice(n))) return null
    return { status: f.b1, counter: f.counter, command: f.command, text: bytesText(f.payload) }
}
