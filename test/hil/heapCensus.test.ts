// Heap census parser (hil-tests/runner/vclock/heapCensus.ts) on a synthetic heap laid out as the
// DeviceScript 2.16 runtime lays out its GC chunk (gc_alloc.c, devs_objects.h): the chunk is
// found by its shape, every block is counted with its tag and size, map and array data blocks
// are charged to their owner, strings are grouped by content, free blocks are binned.

import { describe, expect, it } from "vitest"
import { census, findGcChunk, functionNamer, GC_HEAP_BYTES, ImageStrings, walkChunk } from "../../hil-tests/runner/vclock/heapCensus"

const HDR = (tag: number, words: number) => ((tag << 24) | words) >>> 0

class Heap {
    mem = new Uint8Array(0x20000)
    at: number
    constructor(readonly chunk: number) {
        this.w32(chunk, 0) // next chunk
        this.w32(chunk + 4, chunk + GC_HEAP_BYTES - 4) // end
        this.w32(chunk + GC_HEAP_BYTES - 4, HDR(0x4f, 1)) // FINAL
        this.at = chunk + 8
    }
    w32(a: number, v: number) {
        new DataView(this.mem.buffer).setUint32(a, v >>> 0, true)
    }
    w16(a: number, v: number) {
        new DataView(this.mem.buffer).setUint16(a, v, true)
    }
    block(tag: number, bytes: number): number {
        const a = this.at
        this.w32(a, HDR(tag, bytes / 4))
        this.at += bytes
        return a
    }
    str(s: string): number {
        const bytes = Math.ceil((6 + s.length + 1) / 4) * 4
        const a = this.block(6, bytes)
        this.w16(a + 4, s.length)
        for (let i = 0; i < s.length; i++) this.mem[a + 6 + i] = s.charCodeAt(i)
        return a
    }
    /** value_t of a GC object: low word the address, high word handle type 8. */
    ptrValue(at: number, ptr: number) {
        this.w32(at, ptr)
        this.w32(at + 4, 8)
    }
    /** Fills the rest of the chunk with one free block. */
    finish() {
        const end = this.chunk + GC_HEAP_BYTES - 4
        this.w32(this.at, HDR(1, (end - this.at) / 4))
        this.at = end
    }
}

function sample() {
    const h = new Heap(0x4000)
    const s1 = h.str("detail text") // header 4 + length 2 + 11 + NUL = 18 -> 20 B
    const s2 = h.str("detail text") // same content: grouped
    const kx = h.str("x") // 4 + 2 + 1 + 1 = 8 B
    const ky = h.str("y")
    // map { x: 1, y: 2 }: 16-byte map + data block of 4 + 2 keys x 16 B
    const map = h.block(4, 16)
    const mapData = h.block(2, 4 + 32)
    h.w16(map + 8, 2)
    h.w16(map + 10, 2)
    h.w32(map + 12, mapData + 4)
    h.ptrValue(mapData + 4, kx)
    h.ptrValue(mapData + 20, ky)
    const free1 = h.block(1, 64)
    // array of 3 ints: 16-byte array + data block 4 + 3 x 8
    const arr = h.block(3, 16)
    const arrData = h.block(2, 4 + 24)
    h.w16(arr + 8, 3)
    h.w16(arr + 10, 3)
    h.w32(arr + 12, arrData + 4)
    for (let i = 0; i < 3; i++) {
        h.w32(arrData + 4 + i * 8, i)
        h.w32(arrData + 8 + i * 8, 0xffffffff) // tagged int
    }
    const buf = h.block(5, 12 + 128) // buffer[128]: header, length, attached map, data
    h.w16(buf + 4, 128)
    h.w32(buf + 12, 0x0010e7f3) // first data bytes f3 e7 10 00 (an Int32Store chunk's 1,108,979)
    const orphan = h.block(2, 40) // runtime bytes no map or array owns
    h.finish()
    return { h, s1, s2, map, free1, arr, buf, orphan }
}

describe("heap census parser", () => {
    it("finds the chunk by its shape and walks blocks that tile it exactly", () => {
        const { h } = sample()
        expect(findGcChunk(h.mem)).toBe(0x4000)
        const blocks = walkChunk(h.mem, 0x4000)!
        expect(blocks.reduce((a, b) => a + b.bytes, 0)).toBe(GC_HEAP_BYTES - 12) // minus chunk header and FINAL
    })

    it("refuses a heap with a corrupt header instead of counting garbage", () => {
        const { h, free1 } = sample()
        h.w32(free1, HDR(1, 5)) // 20 B: the next header is now mid-block
        expect(walkChunk(h.mem, 0x4000)).toBeUndefined()
        expect(findGcChunk(h.mem)).toBeUndefined()
    })

    it("counts tags and bytes, charges data blocks to their owner, groups strings, bins free blocks", () => {
        const { h } = sample()
        const c = census(h.mem, 0x4000)
        // strings 2 x 20 + 2 x 8, map 16 + 36, array 16 + 28, buffer 140, orphan bytes 40
        const used = 2 * 20 + 2 * 8 + 16 + 36 + 16 + 28 + 140 + 40
        const blocksSpan = GC_HEAP_BYTES - 12 // chunk header (8) and FINAL block (4) excluded
        expect(c.usedBytes).toBe(used)
        expect(c.freeBytes).toBe(blocksSpan - used)
        expect(c.maxFreeBlock).toBe(blocksSpan - used - 64)
        expect(c.byTag.find(t => t.tag === "string")).toEqual({ tag: "string", count: 4, bytes: 2 * 20 + 2 * 8 })
        expect(c.byTag.find(t => t.tag === "bytes")).toEqual({ tag: "bytes", count: 3, bytes: 36 + 28 + 40 })
        expect(c.byKind.find(k => k.kind === "map{x,y}")).toEqual({ kind: "map{x,y}", count: 1, bytes: 52 })
        expect(c.byKind.find(k => k.kind === "array[3] of int")).toEqual({ kind: "array[3] of int", count: 1, bytes: 44 })
        expect(c.byKind.find(k => k.kind === "buffer[128]")).toEqual({ kind: "buffer[128]", count: 1, bytes: 140 })
        expect(c.unownedBytes).toBe(40)
        expect(c.strings[0]).toEqual({ text: "detail text", count: 2, bytes: 40 })
        expect(c.freeHistogram.find(b => b.upToBytes === 64)).toEqual({ upToBytes: 64, count: 1, bytes: 64 })
        expect(c.freeHistogram.find(b => b.upToBytes === GC_HEAP_BYTES)!.count).toBe(1)
        // The largest objects show a buffer's first 24 data bytes, to tell buffers of one size apart.
        expect(c.largest[0]).toEqual({ addr: expect.any(Number), kind: "buffer[128] f3e71000" + "00".repeat(20), bytes: 140 })
    })

    it("names call frames by function (name_F<index>) and marks returned ones, kept as closure environments", () => {
        // Image: functions section at byte 200, two 16-byte descriptors whose name_idx are ascii
        // strings 0 and 1 (section 2 << 14); the VM's copy of the image starts at 0x1000.
        const img = new Uint8Array(512)
        const dv = new DataView(img.buffer)
        dv.setUint32(32, 200, true) // functions.start
        dv.setUint32(36, 32, true) // functions.length: two descriptors
        dv.setUint16(200 + 12, (2 << 14) | 0, true)
        dv.setUint16(216 + 12, (2 << 14) | 1, true)
        const names: ImageStrings = { ascii: i => ["panelTurn", "handlerWrapper"][i], utf8: () => undefined }
        const namer = functionNamer(img, 0x1000, names)
        expect(namer(0x1000 + 216)).toBe("handlerWrapper_F1")
        expect(namer(0x1000 + 208)).toBeUndefined() // not a descriptor boundary
        const h = new Heap(0x4000)
        // devs_activation_t: header, pc u16, maxpc u16 (0 once returned), closure, caller, func, slots
        const live = h.block(8, 24 + 8 * 4)
        h.w16(live + 4, 10)
        h.w16(live + 6, 90)
        h.w32(live + 16, 0x1000 + 200)
        const env = h.block(8, 24 + 8)
        h.w32(env + 16, 0x1000 + 216)
        h.finish()
        const c = census(h.mem, 0x4000, undefined, namer)
        expect(c.byKind.find(k => k.kind.startsWith("activation panelTurn"))).toEqual({ kind: "activation panelTurn_F0", count: 1, bytes: 56 })
        expect(c.byKind.find(k => k.kind.startsWith("activation handlerWrapper"))).toEqual({ kind: "activation handlerWrapper_F1 (returned: closure env)", count: 1, bytes: 32 })
    })
})
