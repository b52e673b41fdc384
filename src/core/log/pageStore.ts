// Abstract slot storage under the persistent log and durable cells. A slot is a fixed-size
// byte block; `write` may be torn by power loss at any byte (the recovery logic assumes only
// that bytes already written stay written). Devices back it with @devicescript/settings
// (src/hal/settingsStore.ts); tests back it with MemoryPageStore, which can cut power.

/** Bytes to write: a number[] or a Buffer (commitRecord writes Buffers, which MirrorPageStore copies natively: 1 byte of VM
 *  heap per byte where a number[] takes 8; TODO-HEAP-1). */
export interface ByteView {
    [index: number]: number
    readonly length: number
}

export interface PageStore {
    /** Number of slots (a field, not a method: every function costs image bytes, TODO-CODE-1). */
    readonly slotCount: number
    /** Bytes per slot. */
    readonly slotSize: number
    /** The slot's bytes (length slotSize), to read at once and not to keep or modify: a store may
     *  hand out its own buffer (MirrorPageStore does: no copy on the VM heap). */
    read(slot: number): ByteView
    /** Writes `bytes` at `offset` in order, first byte first. A Buffer: the device's store copies
     *  it with one native call (MirrorPageStore). */
    write(slot: number, offset: number, bytes: Buffer): void
}

/** Erased-flash value: a never-written slot reads as all 0xFF. */
export const ERASED = 0xff

/** RAM store. `powerBudget` (bytes) simulates power loss: once that many bytes have been written,
 *  further writes are dropped; if `tornByte` >= 0 the first dropped byte is replaced by it
 *  (a half-programmed cell) instead of being left alone.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class MemoryPageStore implements PageStore {
    private readonly slots: number[][] = []
    readonly slotCount: number
    readonly slotSize: number
    powerBudget = -1
    tornByte = -1
    bytesWritten = 0
    writeCalls = 0

    constructor(count: number, size: number) {
        this.slotCount = count
        this.slotSize = size
        for (let s = 0; s < count; s++) {
            const b: number[] = []
            for (let i = 0; i < size; i++) b.push(ERASED)
            this.slots.push(b)
        }
    }

    read(slot: number): number[] {
        return this.slots[slot].slice(0)
    }

    write(slot: number, offset: number, bytes: Buffer) {
        if (slot < 0 || slot >= this.slots.length || offset < 0 || offset + bytes.length > this.slotSize)
            throw new RangeError("slot write out of range")
        this.writeCalls++
        const b = this.slots[slot]
        for (let i = 0; i < bytes.length; i++) {
            if (this.powerBudget >= 0 && this.bytesWritten >= this.powerBudget) {
                if (this.tornByte >= 0 && this.bytesWritten === this.powerBudget) {
                    b[offset + i] = this.tornByte
                    this.bytesWritten++
                }
                return
            }
            b[offset + i] = bytes[i] & 0xff
            this.bytesWritten++
        }
    }

    /** Independent copy of the contents (power state not copied). */
    clone(): MemoryPageStore {
        const c = new MemoryPageStore(this.slots.length, this.slotSize)
        for (let s = 0; s < this.slots.length; s++) c.slots[s] = this.slots[s].slice(0)
        return c
    }

    /** Power is back: writes work again. */
    restorePower() {
        this.powerBudget = -1
        this.tornByte = -1
    }

    /** Flips one bit (bit rot) for corruption tests. */
    flip(slot: number, offset: number, bit: number) {
        this.slots[slot][offset] = this.slots[slot][offset] ^ (1 << bit)
    }
}
