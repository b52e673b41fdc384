// A small value (<= slot size - 18 ASCII chars) that survives power loss: two slots written in
// turn with an increasing version, so a torn write leaves the previous version readable. Used
// for the infusion snapshot, maintenance counters and remote replay counters.

import { PageStore } from "./pageStore"
import { commitRecord, decodeRecord } from "./record"

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class DurableCell {
    private readonly store: PageStore
    private readonly slotA: number
    private readonly name: string
    /** Version of the newest committed value (0: none); every set() raises it by one. Fields,
     *  not getters: every method costs image bytes (TODO-CODE-1). Read only outside this class. */
    version: number
    /** The newest committed value, or null if none was ever written (or none is readable). */
    value: string
    /** Version held by slot A / B (0 = nothing valid there). */
    private readonly slotVersion: number[] = [0, 0]

    /** Uses slots `firstSlot` and `firstSlot + 1` of `store`, and reads them at once. */
    constructor(store: PageStore, firstSlot: number, name: string) {
        this.store = store
        this.slotA = firstSlot
        this.name = name
        this.version = 0
        this.value = null
        for (let i = 0; i < 2; i++) {
            const r = decodeRecord(store.read(firstSlot + i))
            const ok = r && r.kind === name && r.seq % 2 === 1 - i
            this.slotVersion[i] = ok ? r.seq : 0
            if (ok && r.seq > this.version) {
                this.version = r.seq
                this.value = r.detail
            }
        }
    }

    /** True only when both slots hold valid consecutive versions. The slot written next is the one
     *  with the older version, so an intact pair proves that no newer value was written and then
     *  lost (torn, erased by a failed read, or corrupted). A single surviving slot proves nothing:
     *  it may be the first value ever written or the older half of a pair whose newer half died. */
    intact(): boolean {
        const v = this.version
        if (v < 2) return false
        const newest = v % 2 === 1 ? 0 : 1
        return this.slotVersion[newest] === v && this.slotVersion[1 - newest] === v - 1
    }

    set(value: string) {
        const v = this.version + 1
        // Version v goes to slot A when odd, B when even: the slot overwritten holds v - 2.
        const odd = v % 2 === 1 ? 0 : 1
        // Keep exactly what was stored (non-ASCII replaced, over-long text marked).
        this.value = commitRecord(this.store, this.slotA + odd, { seq: v, timeMs: 0, kind: this.name, detail: value })
        this.version = v
        this.slotVersion[odd] = v
    }
}
