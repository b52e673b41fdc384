// Heap census of the DeviceScript VM: walks the 64 KB GC heap in the WASM memory of a VM hosted by
// the vclock backend and counts what is in it. The layout is the runtime's (DeviceScript 2.16,
// runtime/devicescript/gc_alloc.c, devs_objects.h, devs_value.h, 32-bit WASM build):
//   devs_gc_t (6 words) | chunk_t { next, end } | blocks ... | FINAL block at `end`
//   block header word = tag << 24 | size in 4-byte words; tag bits 0x0f basic tag, 0x20 scanned,
//   0x40 pinned, 0x80 pending; FINAL = 0x4f (size 1); free blocks are filled with 0x37.
//   value_t = 8 bytes (lo word, hi word): a handle when bits 20..30 of hi are 0, its type hi & 0xf
//   (8 = GC object: lo is the block address; 4 = image string: lo = section << 14 | index).
// The chunk is found by its shape (next = 0, end = chunk + size - 4, a FINAL header at end, every
// header in between valid and the blocks tiling the chunk exactly), so no symbol is needed.

export const GC_HEAP_BYTES = 64 * 1024
const TAG_POS = 24
const TAG_MASK = 0x0f
const TAG_FINAL = 0x4f
const FREE_FILL = 0x37

export const TAG_NAMES: Record<number, string> = {
    1: "free",
    2: "bytes",
    3: "array",
    4: "map",
    5: "buffer",
    6: "string",
    7: "bound_function",
    8: "activation",
    9: "half_static_map",
    10: "short_map",
    11: "packet",
    12: "string_jmp",
    13: "image",
}

export interface HeapBlock {
    addr: number
    tag: number
    /** Block size in bytes, header included. */
    bytes: number
    pinned: boolean
}

export interface HeapCensus {
    chunkAddr: number
    blocks: number
    usedBytes: number
    freeBytes: number
    maxFreeBlock: number
    byTag: { tag: string; count: number; bytes: number }[]
    /** Object kinds with their data blocks counted in: maps by key list, arrays, strings... */
    byKind: { kind: string; count: number; bytes: number }[]
    strings: { text: string; count: number; bytes: number }[]
    largest: { addr: number; kind: string; bytes: number }[]
    /** Free blocks by size class (bytes, upper bound inclusive). */
    freeHistogram: { upToBytes: number; count: number; bytes: number }[]
    /** Bytes blocks no array/map owns (runtime allocations: fibers, roles, packets, image data). */
    unownedBytes: number
}

/** Little-endian words of the VM's memory (WASM32) or of the image. */
export const u32 = (m: Uint8Array, a: number) => (m[a] | (m[a + 1] << 8) | (m[a + 2] << 16) | (m[a + 3] << 24)) >>> 0
export const u16 = (m: Uint8Array, a: number) => m[a] | (m[a + 1] << 8)

/** Walks the blocks of the chunk at `chunk`; undefined if any header is invalid. */
export function walkChunk(mem: Uint8Array, chunk: number): HeapBlock[] | undefined {
    if (chunk < 0 || chunk + 8 > mem.length || chunk % 4 !== 0) return undefined
    if (u32(mem, chunk) !== 0) return undefined
    const end = u32(mem, chunk + 4)
    if (end !== chunk + GC_HEAP_BYTES - 4 || end + 4 > mem.length) return undefined
    if (u32(mem, end) !== ((TAG_FINAL << TAG_POS) | 1) >>> 0) return undefined
    const out: HeapBlock[] = []
    let a = chunk + 8
    while (a < end) {
        const h = u32(mem, a)
        const tag = h >>> TAG_POS
        const words = h & 0xffffff
        const basic = tag & TAG_MASK
        if (words < 2 || basic === 0 || !TAG_NAMES[basic] || tag === TAG_FINAL) return undefined
        out.push({ addr: a, tag: basic, bytes: words * 4, pinned: (tag & 0x40) !== 0 })
        a += words * 4
    }
    return a === end ? out : undefined
}

/** Address of the GC chunk in `mem`, or undefined. `hint` (a previous result) is tried first. */
export function findGcChunk(mem: Uint8Array, hint?: number): number | undefined {
    if (hint !== undefined && walkChunk(mem, hint)) return hint
    const finalHeader = ((TAG_FINAL << TAG_POS) | 1) >>> 0
    for (let a = 0; a + GC_HEAP_BYTES <= mem.length; a += 4) {
        // Cheap filter first: next = 0 and end = a + 64 KB - 4 holding a FINAL header.
        if (mem[a] | mem[a + 1] | mem[a + 2] | mem[a + 3]) continue
        if (u32(mem, a + 4) !== a + GC_HEAP_BYTES - 4) continue
        if (u32(mem, a + GC_HEAP_BYTES - 4) !== finalHeader) continue
        if (walkChunk(mem, a)) return a
    }
    return undefined
}

/** Strings of the bytecode image, to name map keys that are image strings. */
export interface ImageStrings {
    ascii(idx: number): string | undefined
    utf8(idx: number): string | undefined
}

/** Reads the ascii and utf8 string tables of a DeviceScript image (devs_format.h). */
export function imageStrings(img: Uint8Array): ImageStrings {
    const sect = (k: number) => ({ start: u32(img, 32 + k * 8), length: u32(img, 36 + k * 8) })
    const ascii = sect(4)
    const utf8 = sect(5)
    const data = sect(7)
    const cstr = (a: number) => {
        let e = a
        while (e < img.length && img[e] !== 0) e++
        return Buffer.from(img.subarray(a, e)).toString("latin1")
    }
    return {
        ascii: idx => (idx * 2 < ascii.length ? cstr(data.start + u16(img, ascii.start + idx * 2)) : undefined),
        utf8: idx => {
            if (idx * 4 >= utf8.length) return undefined
            const s = data.start + u32(img, utf8.start + idx * 4)
            const size = u16(img, s)
            const len = u16(img, s + 2)
            const d = s + 4 + (len >> 4) * 2
            return Buffer.from(img.subarray(d, d + size)).toString("utf8")
        },
    }
}

function stringAt(mem: Uint8Array, b: HeapBlock): string {
    if (b.tag === 6) {
        const len = u16(mem, b.addr + 4)
        return Buffer.from(mem.subarray(b.addr + 6, b.addr + 6 + len)).toString("latin1")
    }
    // string_jmp: devs_utf8_string_t { size, length, jmp_table[length >> 4] } then the bytes
    const size = u16(mem, b.addr + 4)
    const len = u16(mem, b.addr + 6)
    const d = b.addr + 8 + (len >> 4) * 2
    return Buffer.from(mem.subarray(d, d + size)).toString("utf8")
}

/** A map key as text: image/heap strings by content, others by their handle. */
function keyText(mem: Uint8Array, lo: number, hi: number, byAddr: Map<number, HeapBlock>, img?: ImageStrings): string {
    if (((hi >>> 20) & 0x7ff) !== 0) return "#num"
    const type = hi & 0xf
    if (type === 8) {
        const b = byAddr.get(lo)
        if (b && (b.tag === 6 || b.tag === 12)) return stringAt(mem, b)
        return "#obj"
    }
    if (type === 4) {
        const section = lo >>> 14
        const idx = lo & 0x3fff
        if (section === 2) return img?.ascii(idx) ?? "#ascii" + idx
        if (section === 3) return img?.utf8(idx) ?? "#utf8" + idx
        if (section === 1) return "#builtin" + idx
        return "#buf" + idx
    }
    return "#h" + type
}

const FREE_CLASSES = [16, 32, 64, 128, 256, 512, 1024, 4096, GC_HEAP_BYTES]

/** Index of the bytecode function whose 16-byte descriptor is at `descAddr` of the VM's memory,
 *  the image's copy starting at `base` (its function section at header offset 32, size at 36);
 *  -1 if no descriptor is there. */
export function functionIndex(img: Uint8Array, base: number, descAddr: number): number {
    const off = descAddr - base - u32(img, 32)
    return off >= 0 && off % 16 === 0 && off < u32(img, 36) ? off / 16 : -1
}

/** Name of the bytecode function whose descriptor is at this address of the VM's memory. */
export type FunctionNamer = (descAddr: number) => string | undefined

/** Names functions by descriptor address: the image's copy in the VM's memory starts at `base`;
 *  devs_function_desc_t is 16 B (start, length, num_slots, num_args, flags, name_idx, ...). */
export function functionNamer(img: Uint8Array, base: number, strings: ImageStrings): FunctionNamer {
    const start = u32(img, 32)
    return addr => {
        const i = functionIndex(img, base, addr)
        if (i < 0) return undefined
        const off = i * 16
        const nameIdx = u16(img, start + off + 12)
        const section = nameIdx >>> 14
        const name = section === 2 ? strings.ascii(nameIdx & 0x3fff) : section === 3 ? strings.utf8(nameIdx & 0x3fff) : undefined
        return (name ?? "?") + "_F" + off / 16
    }
}

/** `fnName`: names activations (call frames) by their function, as `devs disasm` does (name_F<index>);
 *  a frame whose function has returned (maxpc 0) and is still held is a closure's environment. */
export function census(mem: Uint8Array, chunk: number, img?: ImageStrings, fnName?: FunctionNamer): HeapCensus {
    const blocks = walkChunk(mem, chunk)
    if (!blocks) throw new Error("heap census: no valid GC chunk at 0x" + chunk.toString(16))
    const byAddr = new Map<number, HeapBlock>()
    for (const b of blocks) byAddr.set(b.addr, b)
    // Data blocks (tag bytes) owned by arrays and maps: data pointer - 4 is the block.
    const owner = new Map<number, number>()
    const kindOf = new Map<number, string>()
    const dataBytes = (p: number) => {
        const d = p ? byAddr.get(p - 4) : undefined
        return d && d.tag === 2 ? d : undefined
    }
    for (const b of blocks) {
        if (b.tag === 3) {
            const d = dataBytes(u32(mem, b.addr + 12))
            if (d) owner.set(d.addr, b.addr)
            kindOf.set(b.addr, "array[" + u16(mem, b.addr + 8) + "]")
            const att = u32(mem, b.addr + 4)
            if (att) kindOf.set(att, "array-attached map")
        } else if (b.tag === 4 || b.tag === 9 || b.tag === 10) {
            const len = u16(mem, b.addr + 8)
            const dp = u32(mem, b.addr + 12)
            const d = dataBytes(dp)
            if (d) owner.set(d.addr, b.addr)
            if (kindOf.has(b.addr)) continue
            let kind = TAG_NAMES[b.tag]
            if (b.tag !== 10 && d) {
                const keys: string[] = []
                for (let i = 0; i < len && i < 24; i++) keys.push(keyText(mem, u32(mem, dp + i * 16), u32(mem, dp + i * 16 + 4), byAddr, img))
                kind += "{" + keys.join(",") + (len > 24 ? ",..." : "") + "}"
            } else kind += "(" + len + ")"
            kindOf.set(b.addr, kind)
        } else if (b.tag === 5) {
            kindOf.set(b.addr, "buffer[" + u16(mem, b.addr + 4) + "]")
        } else if (b.tag === 8 && fnName) {
            // devs_activation_t: header, pc u16, maxpc u16, closure, caller, func, slots
            const returned = u16(mem, b.addr + 6) === 0
            kindOf.set(b.addr, "activation " + (fnName(u32(mem, b.addr + 16)) ?? "?") + (returned ? " (returned: closure env)" : ""))
        }
    }
    // Arrays named by what they hold (first element), once every map has its name.
    const valueKind = (lo: number, hi: number) => {
        if (hi === 0xffffffff) return "int"
        if (((hi >>> 20) & 0x7ff) !== 0) return "number"
        const type = hi & 0xf
        if (type === 8) {
            const e = byAddr.get(lo)
            if (!e) return "?"
            if (e.tag === 6 || e.tag === 12) return "string"
            return (kindOf.get(lo) ?? TAG_NAMES[e.tag]).replace(/\{(.{40}).*\}$/, "{$1...}")
        }
        if (type === 0) return lo === 0 ? "undefined" : "special"
        return "handle" + type
    }
    for (const b of blocks) {
        if (b.tag !== 3) continue
        const len = u16(mem, b.addr + 8)
        const dp = u32(mem, b.addr + 12)
        if (len > 0 && dataBytes(dp)) kindOf.set(b.addr, "array[" + len + "] of " + valueKind(u32(mem, dp), u32(mem, dp + 4)))
    }
    const tagAcc = new Map<string, { count: number; bytes: number }>()
    const kindAcc = new Map<string, { count: number; bytes: number }>()
    const strAcc = new Map<string, { count: number; bytes: number }>()
    const add = (m: Map<string, { count: number; bytes: number }>, k: string, bytes: number, n = 1) => {
        const e = m.get(k) ?? { count: 0, bytes: 0 }
        e.count += n
        e.bytes += bytes
        m.set(k, e)
    }
    const objBytes = new Map<number, number>()
    let used = 0
    let free = 0
    let maxFree = 0
    let unowned = 0
    const hist = FREE_CLASSES.map(c => ({ upToBytes: c, count: 0, bytes: 0 }))
    for (const b of blocks) {
        add(tagAcc, TAG_NAMES[b.tag], b.bytes)
        if (b.tag === 1) {
            free += b.bytes
            if (b.bytes > maxFree) maxFree = b.bytes
            const h = hist.find(x => b.bytes <= x.upToBytes)!
            h.count++
            h.bytes += b.bytes
            continue
        }
        used += b.bytes
        if (b.tag === 2) {
            const o = owner.get(b.addr)
            if (o !== undefined) objBytes.set(o, (objBytes.get(o) ?? 0) + b.bytes)
            else unowned += b.bytes
            continue
        }
        objBytes.set(b.addr, (objBytes.get(b.addr) ?? 0) + b.bytes)
        if (b.tag === 6 || b.tag === 12) add(strAcc, stringAt(mem, b), b.bytes)
    }
    const largest: { addr: number; kind: string; bytes: number }[] = []
    for (const [addr, bytes] of objBytes) {
        const b = byAddr.get(addr)!
        const kind = b.tag === 6 || b.tag === 12 ? "string" : (kindOf.get(addr) ?? TAG_NAMES[b.tag])
        add(kindAcc, kind, bytes)
        // Buffers show their first bytes (devs_buffer_t: header, length, attached, data), to tell them apart.
        const shown = b.tag === 6 || b.tag === 12 ? JSON.stringify(stringAt(mem, b).slice(0, 60)) : b.tag === 5 ? kind + " " + Buffer.from(mem.subarray(b.addr + 12, b.addr + 12 + Math.min(24, u16(mem, b.addr + 4)))).toString("hex") : kind
        largest.push({ addr, kind: shown, bytes })
    }
    if (unowned > 0) add(kindAcc, "bytes (runtime: not owned by an array or map)", unowned, blocks.filter(b => b.tag === 2 && !owner.has(b.addr)).length)
    const sorted = (m: Map<string, { count: number; bytes: number }>) => [...m].map(([k, v]) => ({ k, ...v })).sort((x, y) => y.bytes - x.bytes)
    return {
        chunkAddr: chunk,
        blocks: blocks.length,
        usedBytes: used,
        freeBytes: free,
        maxFreeBlock: maxFree,
        byTag: sorted(tagAcc).map(e => ({ tag: e.k, count: e.count, bytes: e.bytes })),
        byKind: sorted(kindAcc).map(e => ({ kind: e.k, count: e.count, bytes: e.bytes })),
        strings: sorted(strAcc).map(e => ({ text: e.k, count: e.count, bytes: e.bytes })),
        largest: largest.sort((x, y) => y.bytes - x.bytes),
        freeHistogram: hist,
        unownedBytes: unowned,
    }
}

/** The census as text (what --heap-census prints). */
export function formatCensus(c: HeapCensus, title: string, top = Number(process.env.HEAP_CENSUS_TOP ?? 30)): string {
    const L: string[] = []
    const pad = (s: string | number, n: number) => String(s).padStart(n)
    L.push("heap census " + title + ": " + c.blocks + " blocks, " + c.usedBytes + " B used, " + c.freeBytes + " B free (largest free block " + c.maxFreeBlock + " B)")
    L.push("  by tag:    " + c.byTag.map(t => t.tag + " " + t.count + "/" + t.bytes + " B").join(", "))
    L.push("  by kind (data blocks counted with their owner; count, bytes):")
    const rest = c.byKind.slice(top)
    if (rest.length > 0) L.push("    (" + rest.length + " more kinds: " + rest.reduce((a, k) => a + k.count, 0) + " objects, " + rest.reduce((a, k) => a + k.bytes, 0) + " B)")
    for (const k of c.byKind.slice(0, top)) L.push("    " + pad(k.count, 5) + pad(k.bytes, 7) + " B  " + k.kind.slice(0, 140))
    L.push("  largest objects:")
    for (const o of c.largest.slice(0, 12)) L.push("    " + pad(o.bytes, 7) + " B  @0x" + o.addr.toString(16) + "  " + o.kind.slice(0, 120))
    L.push("  strings by content (count, bytes; top " + top + " of " + c.strings.length + "):")
    for (const s of c.strings.slice(0, top)) L.push("    " + pad(s.count, 5) + pad(s.bytes, 7) + " B  " + JSON.stringify(s.text.slice(0, 100)))
    L.push("  free blocks (size class: count, bytes): " + c.freeHistogram.filter(h => h.count > 0).map(h => "<=" + h.upToBytes + ": " + h.count + "/" + h.bytes).join(", "))
    return L.join("\n")
}

export { FREE_FILL }
