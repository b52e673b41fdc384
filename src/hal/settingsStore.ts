// PageStore on @devicescript/settings: one setting per slot, key = prefix + slot number
// (<= 13 chars). Core code writes synchronously into a RAM mirror; flush() pushes dirty slots to
// flash in slot order. Each settings.set writes a whole value, and the slot image carries its own
// CRC and commit marker, so a power cut between or during flushes leaves the old record or the
// new one (see src/core/log/persistentLog.ts). Values must stay well under the simulator's
// ~220-byte limit for one settings packet (230 bytes aborts the VM), hence MAX_SLOT_BYTES.

import * as ds from "@devicescript/core"
import { settings } from "@devicescript/settings"
import { ERASED } from "../core/log/pageStore"
import { FlashPageStore, SettingsAccess } from "./types"

export const MAX_SLOT_BYTES = 200

const READ_TIMEOUT_MS = 250
const READ_ATTEMPTS = 4

/** One get with a timeout. Not ds.actionReport: it has no timeout, and a report that arrives
 *  before it suspends is lost, which hung the in-VM test on a loaded host. */
async function readOnce(key: string): Promise<Buffer[]> {
    const code = settings.spec.lookup("get").code
    const box: Buffer[] = []
    let done = false
    const unsub = settings.report().subscribe(pkt => {
        if (!done && pkt.serviceCommand === code && pkt.decode()[0] === key) {
            box.push(pkt.decode()[1])
            done = true
        }
    })
    await settings.get(key)
    const until = ds.millis() + READ_TIMEOUT_MS
    while (!done && ds.millis() < until) await ds.sleep(2)
    unsub()
    return done ? box : null
}

/** Raw bytes of one setting (readSetting would JSON-parse them); null value = missing;
 *  throws after READ_ATTEMPTS timeouts. */
async function readRaw(key: string): Promise<Buffer> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        const r = await readOnce(key)
        if (r) return r[0]
    }
    throw new Error("settings read timed out: " + key)
}

/** A JSON-encoded string setting (as `.env` files store them), "" if missing, unreadable or not
 *  a string. Replaces readSetting, which waits forever if the report is lost. */
export async function readTextSetting(key: string): Promise<string> {
    try {
        const b = await readRaw(key)
        if (!b || b.length === 0) return ""
        const v = JSON.parse(b.toString())
        return typeof v === "string" ? v : ""
    } catch (e) {
        return ""
    }
}

export class SettingsPageStore implements FlashPageStore {
    private readonly prefix: string
    private readonly size: number
    /** Buffers, not number[]: a number[] slot costs several bytes per element in the VM heap
     *  (32 x 128 of them ran the simulator out of memory). */
    private readonly cache: Buffer[] = []
    private readonly dirty: boolean[] = []
    private flushing = false
    flushes = 0

    constructor(prefix: string, count: number, size: number) {
        if (size > MAX_SLOT_BYTES) throw new RangeError("slot too large for one setting")
        if ((prefix + (count - 1)).length > 13) throw new RangeError("settings key too long")
        this.prefix = prefix
        this.size = size
        for (let s = 0; s < count; s++) {
            const b = Buffer.alloc(size)
            b.fillAt(0, size, ERASED)
            this.cache.push(b)
            this.dirty.push(false)
        }
    }

    /** Reads every slot from flash into the mirror; call once at power-up. Returns the number
     *  of slots that could not be read (left erased: only that slot's record is lost). */
    async load(): Promise<number> {
        let failed = 0
        for (let s = 0; s < this.cache.length; s++) {
            try {
                const v = await readRaw(this.prefix + s)
                // Missing or wrong-sized values read as erased: the record codec then ignores them.
                if (v && v.length === this.size) this.cache[s] = v
            } catch (e) {
                failed++
            }
        }
        return failed
    }

    slotCount(): number {
        return this.cache.length
    }

    slotSize(): number {
        return this.size
    }

    read(slot: number): number[] {
        const b = this.cache[slot]
        const out: number[] = []
        for (let i = 0; i < b.length; i++) out.push(b[i])
        return out
    }

    write(slot: number, offset: number, bytes: number[]) {
        if (slot < 0 || slot >= this.cache.length || offset < 0 || offset + bytes.length > this.size) throw new RangeError("slot write out of range")
        const b = this.cache[slot]
        for (let i = 0; i < bytes.length; i++) b[offset + i] = bytes[i] & 0xff
        this.dirty[slot] = true
    }

    pending(): number {
        let n = 0
        for (let s = 0; s < this.dirty.length; s++) if (this.dirty[s]) n++
        return n
    }

    /** Writes dirty slots to flash. Concurrent callers wait for the running flush. */
    async flush() {
        while (this.flushing) await ds.sleep(1)
        this.flushing = true
        try {
            for (let s = 0; s < this.cache.length; s++) {
                if (!this.dirty[s]) continue
                this.dirty[s] = false
                // A copy, so writes made while this one is in flight go out in the next flush.
                const buf = Buffer.alloc(this.size)
                buf.blitAt(0, this.cache[s], 0, this.size)
                await settings.set(this.prefix + s, buf)
                this.flushes++
            }
        } finally {
            this.flushing = false
        }
    }
}

/** Raw bytes of one setting via ds.actionReport (no timeout): the drug library's reads. */
async function readRawReport(key: string): Promise<Buffer> {
    const pkt = await ds.actionReport(settings, "get", async () => await settings.get(key), p => p.decode()[0] === key)
    const v = pkt.decode()[1] as Buffer
    return v && v.length > 0 ? v : null
}

/** The device's settings flash behind the firmware's SettingsAccess. */
export const deviceSettings: SettingsAccess = {
    readText: readTextSetting,
    readBytes: readRawReport,
    writeBytes: async (key: string, value: Buffer) => {
        await settings.set(key, value)
    },
    pageStore: (prefix: string, count: number, size: number) => new SettingsPageStore(prefix, count, size),
}
