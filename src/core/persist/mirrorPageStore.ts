// Settings-backed PageStore: a RAM mirror loaded once at power-up and flushed by the background
// writer, one setting per slot (key = prefix + slot number, <= 13 chars). Every write is read back
// (REQ-PERS-010): the runtime ignores a failed settings write (fstor returns -3 when the area is
// full, jacdac-c jd_fstor.c), so only a read-back tells a saved record from a lost one. No
// @devicescript import: the device (src/hal/settingsStore.ts) and the host tests run this same code.
// Each settings write stores a whole value and the slot image carries its own CRC and commit
// marker, so a power cut between or during flushes leaves the old record or the new one.

import { ByteView, PageStore } from "../log/pageStore"

/** The part of the firmware's SettingsBytes (src/hal/types.ts) this store needs. */
export interface SettingsBytes {
    /** null when missing or empty; throws when the read times out. */
    readBytes(key: string): Promise<Buffer>
    writeBytes(key: string, value: Buffer): Promise<void>
}

/** Values stay well under the simulator's ~220-byte limit for one settings packet. */
export const MAX_SLOT_BYTES = 200
/** After a failed write the store skips this many flush calls (60 s at the 100 ms writer) before
 *  trying again: a write into a full fstor area runs a gc that erases the other half first, so
 *  retrying every 100 ms would spend the flash's 100,000 erase cycles in under 3 hours. */
export const RETRY_AFTER_FLUSHES = 600

/** MAX_SLOT_BYTES erased (ERASED = 0xFF) bytes as hex text (a literal: image data, no heap). */
const ERASED_HEX = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

/** Reads of one write's value before it counts as lost. A settings get carries no request id:
 *  the answer to an earlier get that timed out (slow VM at chip speed) can arrive as the answer
 *  to the next one, holding the value from before this write. Reading again consumes it. */
export const READ_BACK_ATTEMPTS = 3

/** Writes `value` under `key` and reads it back: "" when the stored bytes equal `value`, else why
 *  not. Only equal bytes count: a stale answer holds the value from before the write, so it can
 *  match only when flash already held `value`. */
export async function writeVerified(settings: SettingsBytes, key: string, value: Buffer): Promise<string> {
    try {
        await settings.writeBytes(key, value)
        for (let attempt = 0; attempt < READ_BACK_ATTEMPTS; attempt++) {
            const back = await settings.readBytes(key)
            // Compared as hex text: two native conversions where a loop a byte cost the VM
            // about 3,000 WASM instructions an iteration.
            if (back !== null && back.toString("hex") === value.toString("hex")) return ""
        }
        return key + " read back differs"
    } catch (e) {
        return key + " " + e
    }
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class MirrorPageStore implements PageStore {
    private readonly settings: SettingsBytes
    private readonly prefix: string
    readonly slotCount: number
    readonly slotSize: number
    private readonly sleep: (ms: number) => Promise<void>
    /** Missing (undefined) or null = erased: the array grows as slots are loaded or written (no
     *  start-up loop). Buffers, not number[]: a number[] slot costs several bytes per element in
     *  the VM heap (32 x 128 of them ran the simulator out of memory). */
    private readonly cache: Buffer[] = []
    /** 1 = written since the last successful flush (a Buffer: zeroed at allocation, no loop). */
    private readonly dirty: Buffer
    /** How many slots are dirty: a flush with none returns at once (the writer calls it every
     *  100 ms; a scan of every slot's flag cost the VM more than the rest of the writer). */
    private dirtySlots = 0
    // Undefined until first set, which reads as false / not > 0 (no initialisers: TODO-CODE-1).
    private flushing: boolean
    /** All ERASED, returned by read() for every erased slot (made at first use). */
    private erased: Buffer
    private holdFlushes: number
    /** Writes whose read-back failed (the slot stays dirty and is written again at the next flush). */
    failures = 0
    lastFailure = ""

    constructor(settings: SettingsBytes, prefix: string, count: number, size: number, sleep: (ms: number) => Promise<void>) {
        if (size > MAX_SLOT_BYTES) throw new RangeError("slot too large for one setting")
        if ((prefix + (count - 1)).length > 13) throw new RangeError("settings key too long")
        this.settings = settings
        this.prefix = prefix
        this.slotCount = count
        this.slotSize = size
        this.sleep = sleep
        this.dirty = Buffer.alloc(count)
    }

    async load(): Promise<number> {
        let failed = 0
        for (let s = 0; s < this.slotCount; s++) {
            try {
                const v = await this.settings.readBytes(this.prefix + s)
                // Missing or wrong-sized values read as erased: the record codec then ignores them.
                if (v && v.length === this.slotSize) this.cache[s] = v
            } catch (e) {
                failed++
            }
        }
        return failed
    }

    read(slot: number): ByteView {
        const b = this.cache[slot]
        if (b) return b
        // One all-erased buffer for every erased slot, made at the first read of one (from hex
        // text: one native call where a loop a byte cost the VM about 1 M WASM instructions).
        if (!this.erased) this.erased = Buffer.from(ERASED_HEX.slice(0, 2 * this.slotSize), "hex")
        return this.erased
    }

    write(slot: number, offset: number, bytes: Buffer) {
        if (slot < 0 || slot >= this.slotCount || offset < 0 || offset + bytes.length > this.slotSize) throw new RangeError("slot write out of range")
        let b = this.cache[slot]
        if (!b) {
            // First write to an erased slot: start from the erased image.
            b = Buffer.alloc(this.slotSize)
            b.set(this.read(slot) as Buffer, 0)
            this.cache[slot] = b
        }
        // One native copy (a loop a byte cost the VM about 3,000 WASM instructions an iteration).
        b.set(bytes, offset)
        if (!this.dirty[slot]) this.dirtySlots++
        this.dirty[slot] = 1
    }

    pending(): number {
        return this.dirtySlots
    }

    async flush() {
        if (this.dirtySlots === 0) return
        while (this.flushing) await this.sleep(1)
        if (this.holdFlushes > 0) {
            this.holdFlushes--
            return
        }
        this.flushing = true
        try {
            for (let s = 0; s < this.slotCount; s++) {
                if (!this.dirty[s]) continue
                this.dirty[s] = 0
                this.dirtySlots--
                // A copy, so writes made while this one is in flight go out in the next flush.
                const bad = await writeVerified(this.settings, this.prefix + s, Buffer.from(this.cache[s]))
                if (bad.length > 0) {
                    this.dirty[s] = 1
                    this.dirtySlots++
                    this.failures++
                    this.lastFailure = bad
                    this.holdFlushes = RETRY_AFTER_FLUSHES
                    break
                }
            }
        } finally {
            this.flushing = false
        }
    }
}
