// PageStore on @devicescript/settings: one setting per slot, key = prefix + slot number
// (<= 13 chars). Core code writes synchronously into a RAM mirror; flush() pushes dirty slots to
// flash in slot order. Each settings.set writes a whole value, and the slot image carries its own
// CRC and commit marker, so a power cut between or during flushes leaves the old record or the
// new one (see src/core/log/persistentLog.ts). Values must stay well under the simulator's
// ~220-byte limit for one settings packet (230 bytes aborts the VM), hence MAX_SLOT_BYTES.

import * as ds from "@devicescript/core"
import { settings } from "@devicescript/settings"
import { ERASED, PageStore } from "../core/log/pageStore"

export const MAX_SLOT_BYTES = 200

/** Raw bytes of one setting (readSetting would JSON-parse them). */
async function readRaw(key: string): Promise<Buffer> {
    const pkt = await ds.actionReport(settings, "get", async () => await settings.get(key), p => p.decode()[0] === key)
    return pkt.decode()[1]
}

export class SettingsPageStore implements PageStore {
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

    /** Reads every slot from flash into the mirror; call once at power-up. */
    async load() {
        for (let s = 0; s < this.cache.length; s++) {
            const v = await readRaw(this.prefix + s)
            // Missing or wrong-sized values read as erased: the record codec then ignores them.
            if (v && v.length === this.size) this.cache[s] = v
        }
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
