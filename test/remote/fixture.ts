import { createHmac, randomBytes } from "node:crypto"
import { EventLog } from "../../src/core/eventLog"
import { DurableCell } from "../../src/core/log/durableCell"
import { MemoryPageStore } from "../../src/core/log/pageStore"
import { PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { HexKeyRing, HmacSha256, ReplayCounters } from "../../src/core/remote/auth"
import { buildRequest, Response, verifyResponse } from "../../src/core/remote/client"
import { RemoteEndpoint } from "../../src/core/remote/endpoint"

export const nodeHmac: HmacSha256 = { mac: (k, d) => [...createHmac("sha256", Buffer.from(k)).update(Buffer.from(d)).digest()] }
export const nodeRandom = (n: number) => [...randomBytes(n)]
export const DEV = "pump-0042"

/** A fresh random key (a key written in the repository is public and refused). */
export function newKey(): { hex: string; bytes: number[] } {
    const b = randomBytes(32)
    return { hex: b.toString("hex"), bytes: [...b] }
}

/** A counter cell proven current at 0 for both roles (an intact pair of slots), as a pump has
 *  after its first authenticated re-synchronisation. A blank cell locks both roles. */
export function provenCounters(cells: MemoryPageStore, first = 0) {
    const c = new DurableCell(cells, first, "rctr")
    // "v1" (the format before the lock): the current parser still reads it, and the same test
    // then runs unchanged against the old code to show it failed there.
    c.set("v1|0|0")
    c.set("v1|0|0")
}

/** A pump, its endpoint and the counter cell store (slots 0-1), booted from `cells`. */
export function bootPump(cells: MemoryPageStore, gw: string, ce: string, pump?: PumpController, log?: EventLog) {
    log = log ?? new EventLog(2000)
    pump = pump ?? new PumpController(REFERENCE_PUMP_CONFIG, log)
    const replay = new ReplayCounters(new DurableCell(cells, 0, "rctr"))
    const ep = new RemoteEndpoint({
        deviceId: DEV,
        pump,
        log,
        hmac: nodeHmac,
        keys: new HexKeyRing(gw, ce),
        replay,
        logReader: null,
        maintenance: { text: () => "runH=1" },
        installer: null,
        random: nodeRandom,
    })
    return { ep, pump, log, replay }
}

/** One request through accept + execute as the transport runs it; null if dropped. */
export function exchange(ep: RemoteEndpoint, key: number[], bytes: number[], nowMs = 0): Response | null {
    const acc = ep.accept(bytes, nowMs)
    if (!acc) return null
    return verifyResponse(nodeHmac, key, DEV, ep.execute(acc, nowMs))
}

export function request(key: number[], keyId: number, counter: number, command: number, payload: number[] = []): number[] {
    return buildRequest(nodeHmac, key, DEV, keyId, counter, command, payload)
}
