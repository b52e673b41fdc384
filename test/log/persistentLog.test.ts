import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { crc32, crc32Text } from "../../src/core/log/crc32"
import { DurableCell } from "../../src/core/log/durableCell"
import { MemoryPageStore } from "../../src/core/log/pageStore"
import { PersistentLog } from "../../src/core/log/persistentLog"
import { decodeRecord, encodeRecord, StoredRecord } from "../../src/core/log/record"

const N = 8
const SIZE = 64

function rec(seq: number): StoredRecord {
    return { seq, timeMs: 1000 * seq + 7, kind: seq % 3 === 0 ? "ALARM" : "STATE", detail: "record number " + seq }
}

function filled(count: number): MemoryPageStore {
    const store = new MemoryPageStore(N, SIZE)
    const log = new PersistentLog(store)
    log.recover()
    for (let s = 1; s <= count; s++) {
        const r = rec(s)
        log.append(r.timeMs, r.kind, r.detail)
    }
    return store
}

function expectCommitted(log: PersistentLog, last: number) {
    // The last N-1 committed records must all be readable and exact.
    const from = Math.max(1, last - (N - 1) + 1)
    const got = log.read(from, 100)
    const want: StoredRecord[] = []
    for (let s = from; s <= last; s++) want.push(rec(s))
    expect(got.filter(r => r.seq <= last)).toEqual(want)
}

describe("CRC-32", () => {
    it("matches the IEEE check value for '123456789' (0xCBF43926)", () => {
        expect(crc32Text("123456789")).toBe(0xcbf43926)
        expect(crc32([], 0, 0)).toBe(0)
    })
})

describe("record slot codec", () => {
    it("round-trips and refuses an uncommitted image", () => {
        const img = encodeRecord(rec(5), SIZE)
        expect(decodeRecord(img)).toBeNull() // marker not yet set
        img[SIZE - 1] = 0xa5
        expect(decodeRecord(img)).toEqual(rec(5))
    })

    it("marks text that did not fit with '~' rather than cutting it silently", () => {
        const img = encodeRecord({ seq: 1, timeMs: 0, kind: "PROGRAM", detail: "x".repeat(200) }, SIZE)
        img[SIZE - 1] = 0xa5
        const r = decodeRecord(img)!
        // 64 - 18 overhead - 7 kind chars = 39 detail chars, the last being the mark.
        expect(r.detail).toBe("x".repeat(38) + "~")
    })

    it("never throws on arbitrary slot bytes", () => {
        fc.assert(
            fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 0, maxLength: 80 }), bytes => {
                const r = decodeRecord(bytes)
                if (r) expect(r.seq).toBeGreaterThan(0)
            }),
            { numRuns: 2000 }
        )
    })
})

describe("persistent log: power cut at every byte of a record write", () => {
    // One append = 1 (clear marker) + 63 (image) + 1 (commit) = 65 byte writes.
    const BYTES_PER_APPEND = SIZE + 1
    for (const before of [0, 3, N - 1, N, 13, 30]) {
        for (const torn of [-1, 0x00, 0xa5, 0x4c, 0xff]) {
            it(`with ${before} records already written, torn byte ${torn}`, () => {
                const base = filled(before)
                for (let cut = 0; cut <= BYTES_PER_APPEND; cut++) {
                    const store = base.clone()
                    const log = new PersistentLog(store)
                    log.recover()
                    store.bytesWritten = 0
                    store.powerBudget = cut
                    store.tornByte = torn
                    const r = rec(before + 1)
                    log.append(r.timeMs, r.kind, r.detail)
                    store.restorePower()
                    // Power-up: recover from what is in the store.
                    const after = new PersistentLog(store)
                    const rep = after.recover()
                    // A half-programmed commit byte that happens to read 0xA5 is a complete write.
                    const committed = cut >= BYTES_PER_APPEND || (cut === BYTES_PER_APPEND - 1 && torn === 0xa5)
                    expect(rep.lastSeq).toBe(committed ? before + 1 : before)
                    expectCommitted(after, committed ? before + 1 : before)
                    // The log keeps working: the next append gets the next free seq and reads back.
                    const nextSeq = rep.lastSeq + 1
                    const n = rec(nextSeq)
                    after.append(n.timeMs, n.kind, n.detail)
                    const again = new PersistentLog(store)
                    expect(again.recover().lastSeq).toBe(nextSeq)
                    expectCommitted(again, nextSeq)
                }
            })
        }
    }

    it("property: random appends with random power cuts never lose a committed record", () => {
        fc.assert(
            fc.property(
                fc.array(fc.record({ cut: fc.integer({ min: -1, max: 70 }), torn: fc.integer({ min: -1, max: 255 }) }), { minLength: 1, maxLength: 40 }),
                steps => {
                    const store = new MemoryPageStore(N, SIZE)
                    let log = new PersistentLog(store)
                    log.recover()
                    let committed = 0
                    for (const st of steps) {
                        store.bytesWritten = 0
                        store.powerBudget = st.cut
                        store.tornByte = st.torn
                        const r = rec(log.lastSeq() + 1)
                        log.append(r.timeMs, r.kind, r.detail)
                        if (st.cut < 0 || st.cut >= SIZE + 1 || (st.cut === SIZE && st.torn === 0xa5)) committed = r.seq
                        store.restorePower()
                        if (st.cut >= 0) {
                            log = new PersistentLog(store)
                            log.recover()
                        }
                        expect(log.lastSeq()).toBeGreaterThanOrEqual(committed)
                        expectCommitted(log, committed)
                    }
                }
            ),
            { numRuns: 300 }
        )
    })
})

describe("persistent log ring and corruption", () => {
    it("keeps the newest records after wrapping and reports the window", () => {
        const store = filled(20)
        const log = new PersistentLog(store)
        const rep = log.recover()
        // 8 slots: seqs 13..20 are in the store, no holes.
        expect(rep).toEqual({ records: 8, holes: 0, invalidSlots: 0, lastSeq: 20 })
        expect(log.read(1, 100).map(r => r.seq)).toEqual([13, 14, 15, 16, 17, 18, 19, 20])
    })

    it("a flipped bit costs that record only, and is counted as a hole", () => {
        const store = filled(20)
        store.flip(17 % N, 20, 3)
        const log = new PersistentLog(store)
        expect(log.recover()).toEqual({ records: 7, holes: 1, invalidSlots: 1, lastSeq: 20 })
        expect(log.read(1, 100).map(r => r.seq)).toEqual([13, 14, 15, 16, 18, 19, 20])
    })

    it("an empty store recovers to seq 0", () => {
        const log = new PersistentLog(new MemoryPageStore(N, SIZE))
        expect(log.recover()).toEqual({ records: 0, holes: 0, invalidSlots: 0, lastSeq: 0 })
    })
})

describe("durable cell", () => {
    it("a power cut at every byte of an update leaves the old or the new value, never garbage", () => {
        const base = new MemoryPageStore(2, SIZE)
        const c0 = new DurableCell(base, 0, "snap")
        c0.set("v1")
        c0.set("v2 state=Running")
        for (let cut = 0; cut <= SIZE + 1; cut++) {
            for (const torn of [-1, 0, 0xa5]) {
                const store = base.clone()
                const c = new DurableCell(store, 0, "snap")
                expect(c.value).toBe("v2 state=Running")
                store.bytesWritten = 0
                store.powerBudget = cut
                store.tornByte = torn
                c.set("v3 state=Paused")
                store.restorePower()
                const back = new DurableCell(store, 0, "snap").value
                const done = cut >= SIZE + 1 || (cut === SIZE && torn === 0xa5)
                expect(back).toBe(done ? "v3 state=Paused" : "v2 state=Running")
            }
        }
    })

    it("ignores a slot that belongs to another cell name", () => {
        const store = new MemoryPageStore(2, SIZE)
        new DurableCell(store, 0, "maint").set("1|2|3")
        expect(new DurableCell(store, 0, "snap").value).toBeNull()
    })
})
