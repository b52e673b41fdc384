// Persistent event log: a ring of fixed-size slots on a PageStore with a commit protocol, so
// a power cut during a write never damages an older record.
//
// Record `seq` always lives in slot seq % N. Writing it (1) clears that slot's commit marker,
// (2) writes header, text and CRC, (3) sets the commit marker. The slot being written held
// seq - N, which the ring already gave up, so a torn write can only cost the record being
// written. Recovery keeps every valid record with seq in (maxSeq - N, maxSeq] and counts holes
// in that window (bit rot) instead of hiding them. Guaranteed to survive any single power cut:
// the last N - 1 committed records.

import { ERASED, PageStore } from "./pageStore"
import { commitRecord, decodeRecord, StoredRecord } from "./record"

export interface RecoveryReport {
    records: number
    /** Slots inside the retained window that hold no valid record (corruption or a torn write). */
    holes: number
    /** Slots that are neither erased nor valid (torn writes, bit rot, stale formats). */
    invalidSlots: number
    lastSeq: number
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class PersistentLog {
    private readonly store: PageStore
    private readonly n: number
    private nextSeq = 1
    private report: RecoveryReport = null

    constructor(store: PageStore) {
        if (store.slotCount < 2) throw new RangeError("persistent log needs at least 2 slots")
        this.store = store
        this.n = store.slotCount
    }

    // Set by scanSlot(0) before use: no initialisers (each costs image bytes, TODO-CODE-1).
    private scanMax: number
    private scanInvalid: number
    /** Seqs of the valid records found so far (numbers, not the records: less heap at boot). */
    private scanFound: number[]

    /** Scans the store; must run before the first append after power-up. */
    recover(): RecoveryReport {
        let r: RecoveryReport = null
        for (let s = 0; s < this.n; s++) r = this.scanSlot(s)
        return r
    }

    /** Recovery one slot at a time, so the VM can yield between slots (a whole 32-slot scan is
     *  too many loop iterations for one VM slice): call for every slot in order 0..n-1. Slot 0
     *  starts the scan; the last slot ends it and returns the report (null before that). */
    scanSlot(s: number): RecoveryReport {
        if (s === 0) {
            this.scanMax = 0
            this.scanInvalid = 0
            this.scanFound = []
        }
        const raw = this.store.read(s)
        const r = decodeRecord(raw)
        // A record in the wrong slot is not trusted (a misdirected write or a foreign image).
        if (r && r.seq % this.n === s) {
            this.scanFound.push(r.seq)
            if (r.seq > this.scanMax) this.scanMax = r.seq
        } else {
            // Erased = every byte 0xFF: the first is, and the bytes without the first equal the
            // bytes without the last (all bytes equal), compared as hex text. Native copies and
            // conversions where a loop a byte cost the VM about 8,000 WASM instructions an
            // iteration (16 M of the boot scan of an empty log).
            const b = Buffer.from(raw as Buffer)
            if (raw[0] !== ERASED || b.slice(1).toString("hex") !== b.slice(0, b.length - 1).toString("hex")) this.scanInvalid++
        }
        if (s < this.n - 1) return null
        const maxSeq = this.scanMax
        let kept = 0
        for (let i = 0; i < this.scanFound.length; i++) if (this.scanFound[i] > maxSeq - this.n) kept++
        const windowSize = maxSeq < this.n ? maxSeq : this.n
        this.nextSeq = maxSeq + 1
        this.scanFound = []
        this.report = { records: kept, holes: windowSize - kept, invalidSlots: this.scanInvalid, lastSeq: maxSeq }
        return this.report
    }

    slotTotal(): number {
        return this.n
    }

    lastRecovery(): RecoveryReport {
        return this.report
    }

    capacity(): number {
        return this.n - 1
    }

    lastSeq(): number {
        return this.nextSeq - 1
    }

    /** Appends one record with the three-step commit; returns its seq. */
    append(timeMs: number, kind: string, detail: string): number {
        const seq = this.nextSeq
        commitRecord(this.store, seq % this.n, { seq: seq, timeMs: timeMs, kind: kind, detail: detail })
        this.nextSeq = seq + 1
        return seq
    }

    /** Valid records with seq >= fromSeq, oldest first, at most `max`. */
    read(fromSeq: number, max: number): StoredRecord[] {
        const last = this.nextSeq - 1
        let first = last - this.n + 1
        if (first < 1) first = 1
        if (fromSeq > first) first = fromSeq
        const out: StoredRecord[] = []
        for (let seq = first; seq <= last && out.length < max; seq++) {
            const r = decodeRecord(this.store.read(seq % this.n))
            if (r && r.seq === seq) out.push(r)
        }
        return out
    }
}
