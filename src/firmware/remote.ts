// Thin device transport for the remote interface: keys from settings (provisioned per device via
// .env.local / the settings service; never in the source), HMAC from the device services, and
// `handle(packet)` for whatever link carries frames (Jacdac or serial binding: see
// docs/security.md, not yet wired to a physical link). The replay counter is flushed to flash
// before a command runs, so a power cut cannot reopen an executed request.

import { EventLog } from "../core/eventLog"
import { HexKeyRing, keySetProblems, ReplayCounters } from "../core/remote/auth"
import { ADMIT_SPACING_MS, LibraryInstaller, RemoteEndpoint } from "../core/remote/endpoint"
import { PumpController } from "../core/pump"
import { toBuffer, toBytes } from "../core/bytes"
import { DeviceServices } from "../hal/types"
import { deviceKeyHex } from "./libraryDevice"
import { Persistence } from "./persistence"

export interface DeviceRemote {
    endpoint: RemoteEndpoint
    handle(packet: Buffer): Promise<Buffer>
}

export async function startRemote(pump: PumpController, log: EventLog, p: Persistence, pumpId: string, installer: LibraryInstaller, dev: DeviceServices): Promise<DeviceRemote> {
    const clock = dev.clock
    // .env values are JSON-decoded: an unquoted all-digit key would come back as a number and
    // read as "" (not provisioned), so it is refused, never misused.
    const gw = await dev.settings.readText("RKEY_GW")
    const ce = await dev.settings.readText("RKEY_CE")
    const now = clock.nowMs()
    const lib = await deviceKeyHex(dev.settings)
    const problems = keySetProblems(gw, ce, lib)
    for (let k = 0; k < 2; k++) {
        const role = k ? "engineering" : "gateway"
        if (problems[k]) log.record(now, "REMOTE_KEY", role + " key " + problems[k] + ": " + role + " requests refused")
    }
    const replay = new ReplayCounters(p.rctrCell)
    const locked = replay.locked
    // Fail closed (REQ-SEC-011): say so at boot, so clinical engineering knows to re-synchronise.
    if (locked[0] || locked[1])
        log.record(now, "REMOTE_LOCKED", "replay counters not proven current (gateway " + (locked[0] ? "locked" : "ok") + ", engineering " + (locked[1] ? "locked" : "ok") + "): re-synchronise (docs/security.md)")
    const endpoint = new RemoteEndpoint({
        deviceId: pumpId,
        pump: pump,
        log: log,
        hmac: dev.remoteHmac,
        keys: new HexKeyRing(gw, ce, lib),
        replay: replay,
        logReader: p.plog,
        maintenance: p.maintenance,
        installer: installer,
        random: dev.randomBytes,
    })
    clock.every(1000, () => endpoint.poll(clock.nowMs()))
    return {
        endpoint: endpoint,
        handle: async (packet: Buffer) => {
            if (!endpoint.admit(clock.nowMs(), ADMIT_SPACING_MS)) return null
            const req = endpoint.acceptAdmitted(toBytes(packet), clock.nowMs())
            if (!req) return null
            await p.cellStore.flush()
            return toBuffer(endpoint.execute(req, clock.nowMs()))
        },
    }
}
