// Issue 13 item 3: every remote frame fits one Jacdac packet (REQ-SEC-014).
// @ts-expect-error jacdac-ts types are not reachable through its package "exports"
import { JD_SERIAL_MAX_PAYLOAD_SIZE } from "jacdac-ts"
import { describe, expect, it } from "vitest"
import { MemoryPageStore } from "../../src/core/log/pageStore"
import { PersistentLog } from "../../src/core/log/persistentLog"
import { EventLog } from "../../src/core/eventLog"
import { PumpController, REFERENCE_PUMP_CONFIG } from "../../src/core/pump"
import { HexKeyRing, ReplayCounters } from "../../src/core/remote/auth"
import { verifyResponse } from "../../src/core/remote/client"
import { RemoteEndpoint } from "../../src/core/remote/endpoint"
import { DurableCell } from "../../src/core/log/durableCell"
import * as P from "../../src/core/remote/packet"
import { DEV, newKey, nodeHmac, nodeRandom, provenCounters, request } from "./fixture"

const GW = newKey()
const CE = newKey()

describe("remote frames fit one Jacdac packet", () => {
    it("the longest status, log, counter, refusal and nonce responses are at most 236 bytes", () => {
        expect(JD_SERIAL_MAX_PAYLOAD_SIZE).toBe(236)
        const log = new EventLog(2000)
        const pump = new PumpController(REFERENCE_PUMP_CONFIG, log)
        const cells = new MemoryPageStore(2, 96)
        provenCounters(cells)
        const plog = new PersistentLog(new MemoryPageStore(16, 128))
        plog.recover()
        for (let i = 0; i < 15; i++) plog.append(1_000_000 + i, "ALARM_WITH_A_LONG_KIND", "x".repeat(200))
        const ep = new RemoteEndpoint({
            deviceId: DEV, pump, log, hmac: nodeHmac, keys: new HexKeyRing(GW.hex, CE.hex),
            replay: new ReplayCounters(new DurableCell(cells, 0, "rctr")), logReader: plog,
            maintenance: { text: () => "runH=99999 " + "m".repeat(400) }, installer: null, random: nodeRandom,
        })
        const sizes: number[] = []
        let ctr = 1
        const run = (key: typeof GW, keyId: number, cmd: number, payload: number[] = []) => {
            const acc = ep.accept(request(key.bytes, keyId, ctr++, cmd, payload), 0)!
            const out = ep.execute(acc, 0)
            sizes.push(out.length)
            return verifyResponse(nodeHmac, key.bytes, DEV, out)!
        }
        // A 192-character out-of-service reason makes the status text longest.
        expect(run(CE, 1, P.CMD_CE_SET_OOS, new Array(192).fill(0x41)).status).toBe(0)
        const status = run(GW, 0, P.CMD_STATUS)
        expect(status.text.endsWith(P.CUT_MARK)).toBe(true)
        expect(run(GW, 0, P.CMD_MAINT).text.endsWith(P.CUT_MARK)).toBe(true)
        const logText = run(GW, 0, P.CMD_LOG_READ, [1, 0, 0, 0, 255]).text
        // Whole lines only: the gateway continues from the next sequence number.
        expect(logText.length).toBeGreaterThan(0)
        expect(logText.endsWith("\n")).toBe(true)
        run(GW, 0, P.CMD_START, new Array(192).fill(1))
        run(GW, 0, 0x7f, new Array(192).fill(1))
        for (const s of sizes) expect(s).toBeLessThanOrEqual(JD_SERIAL_MAX_PAYLOAD_SIZE)
        expect(Math.max(...sizes)).toBe(JD_SERIAL_MAX_PAYLOAD_SIZE)
        // Requests: the largest is 9 + 192 + 32 = 233 bytes.
        expect(request(GW.bytes, 0, ctr, P.CMD_LIB_CHUNK, new Array(P.MAX_PAYLOAD).fill(0)).length).toBe(233)
    })
})
