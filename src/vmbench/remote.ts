// Packet flood vs. control tick, measured inside the DeviceScript VM (run by
// tools/benchRemote.ts). The 20 ms control loop runs as in the firmware (setInterval +
// controlTick) while a second fiber feeds remote packets as fast as the VM allows through the
// same accept/execute path the transport uses. Prints tick-interval statistics with and without
// the flood. The simulator VM is not the MCU: figures are relative, HIL must confirm on hardware.

import * as ds from "@devicescript/core"
import { controlTick, createPump, createSafetyState, DriveState } from "../firmware/control"
import { CONTROL_PERIOD_MS } from "../core/pump"
import { SAFETY_DEFAULTS, SafetyMonitor } from "../core/safety/monitor"
import { EventLog } from "../core/eventLog"
import { DurableCell } from "../core/log/durableCell"
import { MemoryPageStore } from "../core/log/pageStore"
import { HexKeyRing, ReplayCounters } from "../core/remote/auth"
import { buildRequest } from "../core/remote/client"
import { AcceptedRequest, RemoteEndpoint } from "../core/remote/endpoint"
import { CMD_STATUS } from "../core/remote/packet"
import { deviceHmac, randomHex, toBuffer, toBytes } from "../hal/deviceCrypto"
import { createSimHardware } from "../hal/sim"

// A fresh key per run: a key written in the repository is public and refused (issue 13).
const GW_HEX = randomHex(32)
/** A counter cell proven current at 0 (intact pair), as after a re-synchronisation. */
function provenCell(): DurableCell {
    const c = new DurableCell(new MemoryPageStore(2, 96), 0, "rctr")
    c.set("v2|0|0")
    c.set("v2|0|0")
    return c
}
const log = new EventLog(32)
const pump = createPump(log)
const hw = createSimHardware(() => ds.millis())
pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH: 100000, vtbiUl: 50000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 })
pump.start(ds.millis())
const keys = new HexKeyRing(GW_HEX, "")
const ep = new RemoteEndpoint({
    deviceId: "bench",
    pump: pump,
    log: log,
    hmac: deviceHmac,
    keys: keys,
    replay: new ReplayCounters(provenCell()),
    logReader: null,
    maintenance: null,
    installer: null,
})

// Forged but well-formed 233-byte frames (pseudo-random payload and MAC).
const forged: Buffer[] = []
let seed = 12345
for (let k = 0; k < 8; k++) {
    const b = Buffer.alloc(233)
    b[0] = 1
    b[7] = 192
    for (let i = 9; i < 233; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        b[i] = seed & 255
    }
    forged.push(b)
    await ds.sleep(0)
}

// Per-packet VM cost. The scheduler is cooperative and the transport handles one packet per
// fiber turn, so the longest single turn is the most a flood can delay one control tick.
async function cost(label: string, n: number, fn: (i: number) => void) {
    let total = 0
    for (let i = 0; i < n; i++) {
        await ds.sleep(0)
        const t0 = ds.millis()
        fn(i)
        await ds.sleep(0)
        total += ds.millis() - t0
    }
    return label + " " + Math.round((total * 1000) / n) / 1000 + " ms"
}
const costEp = new RemoteEndpoint({
    deviceId: "bench",
    pump: pump,
    log: new EventLog(8),
    hmac: deviceHmac,
    keys: new HexKeyRing(GW_HEX, ""),
    replay: new ReplayCounters(provenCell()),
    logReader: null,
    maintenance: null,
    installer: null,
})
const emptyTurn = await cost("empty turn", 50, (i: number) => {})
const badMacCost = await cost("forged 233-byte frame (convert + parse + HMAC + compare)", 50, (i: number) => {
    costEp.acceptAdmitted(toBytes(forged[i % forged.length]), 0)
})
const key0 = new HexKeyRing(GW_HEX, "").keys[0]
const okPkts: Buffer[] = []
for (let c = 1; c <= 50; c++) {
    okPkts.push(toBuffer(buildRequest(deviceHmac, key0, "bench", 0, c, CMD_STATUS, [])))
    await ds.sleep(0)
}
const accepted: AcceptedRequest[] = []
const okCost = await cost("genuine status request: accept (incl. replay-counter write)", 50, (i: number) => {
    accepted.push(costEp.acceptAdmitted(toBytes(okPkts[i]), 0))
})
const exCost = await cost("execute + signed reply", 50, (i: number) => {
    costEp.execute(accepted[i], 0)
})
console.log("BENCH per-packet VM cost (one fiber turn each), mean of 50: " + emptyTurn + "; " + badMacCost + "; " + okCost + "; " + exCost)

let intervals: number[] = []
let lastTick = -1
const drive: DriveState = { motorOn: false }
// The shipping tick includes the safety check, so the flood is measured against the real cost.
const safety = createSafetyState(new SafetyMonitor(pump, log, SAFETY_DEFAULTS))
let busy = false
setInterval(async () => {
    if (busy) return
    busy = true
    const t = ds.millis()
    if (lastTick >= 0) intervals.push(t - lastTick)
    lastTick = t
    await controlTick(hw, pump, drive, t, safety)
    busy = false
}, CONTROL_PERIOD_MS)

function report(label: string, extra: string) {
    let max = 0
    let over25 = 0
    let over60 = 0
    let sum = 0
    for (let i = 0; i < intervals.length; i++) {
        const v = intervals[i]
        sum += v
        if (v > max) max = v
        if (v > 25) over25++
        if (v > 60) over60++
    }
    const mean = intervals.length > 0 ? Math.round((sum * 100) / intervals.length) / 100 : 0
    console.log(
        "BENCH " + label + ": " + intervals.length + " ticks, interval mean " + mean + " ms, max " + max + " ms, >25 ms: " + over25 + ", >60 ms (3 ticks, overrun): " + over60 + extra
    )
}

const PHASE_MS = 5000
// Phase 1: no traffic.
intervals = []
await ds.sleep(PHASE_MS)
report("baseline (no packets)", "")

// 100 genuine signed status requests, built before the flood (building them is the sender's work;
// more do not fit the simulator heap). Once used they come back as replays.
const key = keys.keys[0]
const signed: Buffer[] = []
for (let c = 1; c <= 100; c++) {
    signed.push(toBuffer(buildRequest(deviceHmac, key, "bench", 0, c, CMD_STATUS, [])))
    await ds.sleep(0)
}

// Phase 2: flood, one packet per fiber turn; every 10th is a genuine signed status request.
intervals = []
let sent = 0
let genuine = 0
const end = ds.millis() + PHASE_MS
while (ds.millis() < end) {
    let pkt: Buffer
    if (sent % 10 === 9) {
        pkt = signed[genuine % signed.length]
        genuine++
    } else pkt = forged[sent % forged.length]
    await ds.sleep(0)
    // Same path as src/firmware/remote.ts: rate limit before converting the packet.
    const acc = ep.admit(ds.millis(), 0) ? ep.acceptAdmitted(toBytes(pkt), ds.millis()) : null
    if (acc) {
        await ds.sleep(0)
        ep.execute(acc, ds.millis())
    }
    sent++
    await ds.sleep(0)
}
const s = ep.stats
report(
    "flood (as fast as the VM can offer)",
    "; offered " + Math.round((sent * 1000) / PHASE_MS) + " packets/s (" + sent + " in total, " + genuine + " of them genuine signed requests), accepted " + s.accepted + ", badMac " + s.badMac + ", rateLimited " + s.rateLimited + ", state " + pump.state()
)
// Phase 3: a paced flood at 500 packets/s, about the most a 1 Mbit/s Jacdac bus carries in
// 233-byte frames (a 115200-baud UART carries about 50/s).
intervals = []
const rx0 = ep.stats.received
const end3 = ds.millis() + PHASE_MS
let k = 0
while (ds.millis() < end3) {
    const now = ds.millis()
    const pkt = k % 10 === 9 ? signed[k % signed.length] : forged[k % forged.length]
    const acc3 = ep.admit(now, 0) ? ep.acceptAdmitted(toBytes(pkt), now) : null
    if (acc3) {
        await ds.sleep(0)
        ep.execute(acc3, ds.millis())
    }
    k++
    await ds.sleep(2)
}
report("paced flood", "; " + Math.round(((ep.stats.received - rx0) * 1000) / PHASE_MS) + " packets/s, state " + pump.state())
ds.restart()
