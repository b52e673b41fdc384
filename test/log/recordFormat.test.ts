// The on-flash record layout is fixed (src/core/log/record.ts header; records written by older
// firmware must stay readable and new ones must read on older tools). These tests hold the codec
// to a reference built from the layout description alone: its own encoder, zlib's CRC-32 (not
// the firmware's table code) and a few byte vectors written out by hand.
import fc from "fast-check"
import { crc32 as zlibCrc32 } from "node:zlib"
import { describe, expect, it } from "vitest"
import { DurableCell } from "../../src/core/log/durableCell"
import { MemoryPageStore } from "../../src/core/log/pageStore"
import { PersistentLog } from "../../src/core/log/persistentLog"
import { commitRecord, decodeRecord, StoredRecord } from "../../src/core/log/record"
import { MAX_SLOT_BYTES, MirrorPageStore } from "../../src/core/persist/mirrorPageStore"

/** Unsigned little-endian, n bytes. */
function le(v: number, n: number): number[] {
    const out: number[] = []
    for (let i = 0; i < n; i++) {
        out.push(v % 256)
        v = Math.floor(v / 256)
    }
    return out
}

/** The committed slot image by the layout description: magic 0x4C; seq u32 LE; time u48 LE
 *  (negative as 0); kind length (at most 24 chars); detail length; kind then detail, one byte a
 *  UTF-16 unit, anything outside 0x20..0x7E as '?'; a detail too long for the slot cut to fit
 *  with its last character replaced by '~'; zero padding; CRC-32 (IEEE) of bytes 0..S-6 LE; 0xA5. */
function referenceImage(r: StoredRecord, size: number): { bytes: number[]; detail: string } {
    const kind = r.kind.slice(0, 24)
    const room = size - 18 - kind.length
    const detail = r.detail.length > room ? r.detail.slice(0, room - 1) + "~" : r.detail
    const text = kind + detail
    const body = [0x4c, ...le(r.seq, 4), ...le(Math.max(0, r.timeMs), 6), kind.length, detail.length]
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        body.push(c >= 0x20 && c <= 0x7e ? c : 0x3f)
    }
    while (body.length < size - 5) body.push(0)
    const stored = String.fromCharCode(...body.slice(13 + kind.length, 13 + text.length))
    return { bytes: [...body, ...le(zlibCrc32(Buffer.from(body)), 4), 0xa5], detail: stored }
}

const SAMPLES: StoredRecord[] = [
    { seq: 1, timeMs: 0, kind: "BOOT", detail: "boot=1 id=pump-7 recovered=0 holes=0 invalid=0" },
    { seq: 0xfffffffe, timeMs: 2 ** 47 + 12345, kind: "ALARM", detail: "OCCL_DOWN high p=412mmHg" },
    { seq: 77, timeMs: -5, kind: "STATE", detail: "" },
    { seq: 3, timeMs: 1, kind: "K".repeat(30), detail: "kind longer than 24 characters" },
    { seq: 4, timeMs: 2, kind: "PROGRAM", detail: "x".repeat(300) },
    { seq: 5, timeMs: 3, kind: "NOTE", detail: "tab\there, newline\n, DEL\x7f, e-acute \u00e9, euro \u20ac, emoji \ud83d\ude00 end" },
    { seq: 6, timeMs: 4, kind: "N\u00c5ME", detail: "\u0141ódź ".repeat(40) },
    { seq: 7, timeMs: 5, kind: "P", detail: "\u0000\u001f ~" },
]

describe("record layout: commitRecord writes the documented bytes", () => {
    for (const size of [24, 40, 128, 192]) {
        it("slot " + size + " B: MemoryPageStore and the device's MirrorPageStore hold the reference image; the returned detail is the stored one", () => {
            for (const r of SAMPLES) {
                // A kind that leaves no room for one detail byte is outside the layout.
                if (size - 18 - Math.min(24, r.kind.length) < 1) continue
                const want = referenceImage(r, size)
                const mem = new MemoryPageStore(1, size)
                expect(commitRecord(mem, 0, r)).toBe(want.detail)
                expect(mem.read(0)).toEqual(want.bytes)
                const mirror = new MirrorPageStore({ readBytes: async () => null, writeBytes: async () => {} }, "t", 1, size, async () => {})
                expect(commitRecord(mirror, 0, r)).toBe(want.detail)
                expect([...(mirror.read(0) as Buffer)]).toEqual(want.bytes)
            }
        })
    }

    it("matches a hand-written vector: seq 1, time 2, kind 'A', detail 'b', 24-byte slot", () => {
        const store = new MemoryPageStore(1, 24)
        commitRecord(store, 0, { seq: 1, timeMs: 2, kind: "A", detail: "b" })
        const body = [0x4c, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 1, 0x41, 0x62, 0, 0, 0, 0]
        expect(store.read(0)).toEqual([...body, ...le(zlibCrc32(Buffer.from(body)), 4), 0xa5])
    })

    it("matches a hand-written vector with a cut detail: 'ABCDEFGH' in a 24-byte slot keeps 'ABCDE~'", () => {
        // 24 - 18 overhead - 1 kind char = 5 detail bytes: 4 characters and the mark.
        const store = new MemoryPageStore(1, 24)
        expect(commitRecord(store, 0, { seq: 258, timeMs: 65536, kind: "Z", detail: "ABCDEFGH" })).toBe("ABCD~")
        const body = [0x4c, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 5, 0x5a, 0x41, 0x42, 0x43, 0x44, 0x7e]
        expect(store.read(0)).toEqual([...body, ...le(zlibCrc32(Buffer.from(body)), 4), 0xa5])
    })

    it("any text: the log and a durable cell write the reference image (property)", () => {
        fc.assert(
            fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 250 }), fc.nat(), (kind, detail, t) => {
                const k = kind.length > 0 ? kind : "K"
                const store = new MemoryPageStore(4, 128)
                const log = new PersistentLog(store)
                log.recover()
                log.append(t, k, detail)
                expect(store.read(1)).toEqual(referenceImage({ seq: 1, timeMs: t, kind: k, detail }, 128).bytes)
                const cell = new DurableCell(store, 2, k)
                cell.set(detail)
                const want = referenceImage({ seq: 1, timeMs: 0, kind: k, detail }, 128)
                expect(store.read(2)).toEqual(want.bytes)
                expect(cell.value).toBe(want.detail)
            }),
            { numRuns: 300 }
        )
    })
})

describe("record layout: decodeRecord reads the documented bytes", () => {
    it("reads reference images from a number[] and from a Buffer", () => {
        for (const r of SAMPLES) {
            const want = referenceImage(r, 128)
            const kind = String.fromCharCode(...want.bytes.slice(13, 13 + want.bytes[11]))
            const expected = { seq: r.seq, timeMs: Math.max(0, r.timeMs), kind, detail: want.detail }
            expect(decodeRecord(want.bytes)).toEqual(expected)
            expect(decodeRecord(Buffer.from(want.bytes))).toEqual(expected)
        }
    })

    it("reads a foreign record (valid CRC, bytes outside printable ASCII) one character a byte, as before", () => {
        const body = [0x4c, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 0x41, 0xc5, 0xe2, 0x82, 0xac, 0x0a]
        while (body.length < 35) body.push(0)
        const bytes = [...body, ...le(zlibCrc32(Buffer.from(body)), 4), 0xa5]
        const want = { seq: 9, timeMs: 0, kind: "A\u00c5", detail: "\u00e2\u0082\u00ac\n" }
        expect(decodeRecord(bytes)).toEqual(want)
        expect(decodeRecord(Buffer.from(bytes))).toEqual(want)
    })
})

describe("recovery: an erased slot is one whose every byte is 0xFF", () => {
    it("counts a slot as invalid when any one byte differs from 0xFF, or all bytes are equal but not 0xFF", () => {
        const size = 40
        const cases: [string, (b: number[]) => void, number][] = [
            ["all 0xFF", () => {}, 0],
            ["first byte 0x00", b => (b[0] = 0), 1],
            ["middle byte 0xFE", b => (b[17] = 0xfe), 1],
            ["last byte 0x7F", b => (b[size - 1] = 0x7f), 1],
            ["all 0x00", b => b.fill(0), 1],
        ]
        for (const [name, damage, invalid] of cases) {
            const store = new MemoryPageStore(2, size)
            const b = store.read(1)
            damage(b)
            for (let i = 0; i < size; i++) if (b[i] !== 0xff) store.write(1, i, Buffer.from([b[i]]))
            expect(new PersistentLog(store).recover().invalidSlots, name).toBe(invalid)
            // The device's store hands out Buffers: the same answer.
            const mirror = new MirrorPageStore({ readBytes: async () => null, writeBytes: async () => {} }, "t", 2, size, async () => {})
            mirror.write(1, 0, Buffer.from(b))
            expect(new PersistentLog(mirror).recover().invalidSlots, name).toBe(invalid)
        }
    })
})

describe("MirrorPageStore: a never-written slot reads as erased flash", () => {
    it("reads slotSize bytes of 0xFF for every slot size up to MAX_SLOT_BYTES", () => {
        for (const size of [19, 40, 128, 192, MAX_SLOT_BYTES]) {
            const store = new MirrorPageStore({ readBytes: async () => null, writeBytes: async () => {} }, "t", 2, size, async () => {})
            expect([...(store.read(1) as Buffer)]).toEqual(new Array(size).fill(0xff))
        }
    })
})
