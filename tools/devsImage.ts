// Reads the header of a DeviceScript bytecode image (.devs) and measures it against the VM
// verifier's function-bytecode limit. Layout (DeviceScript 2.16, compiler `serialize()` and
// runtime verify.c): a 32-byte fixed header (magic 0x53766544 "DevS" at 0, image version at 8),
// then 10 section descriptors of 8 bytes (start u32, length u32, little-endian); section 0 holds
// the 16-byte function descriptors, section 1 the function code. Each function descriptor starts
// with its code's (start, length); the verifier walks them in order and refuses the image unless
// every function ends below byte 0x10000 of the image (check 1051: `prevProc < 0x10000`).

export const DEVS_MAGIC = 0x53766544
export const FIX_HEADER_BYTES = 32
export const SECTION_COUNT = 10
export const SECTION_HEADER_BYTES = 8
export const HEADER_BYTES = FIX_HEADER_BYTES + SECTION_COUNT * SECTION_HEADER_BYTES // 112
export const FUNCTION_DESCRIPTOR_BYTES = 16
/** verify.c check 1051: the end of the last function must be strictly below this offset. */
export const FUNCTION_END_LIMIT = 0x10000

export interface DevsSection {
    start: number
    length: number
}

export interface ImageBudget {
    /** Bytes of the whole image file. */
    imageBytes: number
    functionCount: number
    /** 16 bytes per function. */
    descriptorBytes: number
    /** All function code (section 1). */
    codeBytes: number
    /** Image offset just past the last function, as the verifier computes it. */
    functionsEnd: number
    /** Bytes that can still be added to descriptors + code: FUNCTION_END_LIMIT - 1 - functionsEnd
     *  (the verifier needs functionsEnd < 0x10000). Negative: the VM refuses the image. */
    marginBytes: number
}

function u32(b: Uint8Array, at: number): number {
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
}

function section(b: Uint8Array, index: number): DevsSection {
    const at = FIX_HEADER_BYTES + index * SECTION_HEADER_BYTES
    return { start: u32(b, at), length: u32(b, at + 4) }
}

/** Measures an image; throws with the reason when the bytes are not a well-formed image header. */
export function measureImage(image: Uint8Array): ImageBudget {
    if (image.length < HEADER_BYTES) throw new Error(`image is ${image.length} bytes, shorter than the ${HEADER_BYTES}-byte header`)
    if (u32(image, 0) !== DEVS_MAGIC) throw new Error("not a DeviceScript image (bad magic)")
    const desc = section(image, 0)
    const code = section(image, 1)
    if (desc.length % FUNCTION_DESCRIPTOR_BYTES !== 0) throw new Error(`function descriptor section is ${desc.length} bytes, not a multiple of 16`)
    if (desc.start + desc.length > image.length || code.start + code.length > image.length)
        throw new Error("function sections run past the end of the image")
    const functionCount = desc.length / FUNCTION_DESCRIPTOR_BYTES
    // Walk the descriptors as the verifier does: each function's code follows the previous one.
    let end = code.start
    for (let i = 0; i < functionCount; i++) {
        const at = desc.start + i * FUNCTION_DESCRIPTOR_BYTES
        const start = u32(image, at)
        const length = u32(image, at + 4)
        if (start !== end) throw new Error(`function ${i} starts at ${start}, expected ${end} (gap or overlap)`)
        end = start + length
    }
    if (end > code.start + code.length) throw new Error(`functions end at ${end}, past their section's end ${code.start + code.length}`)
    return {
        imageBytes: image.length,
        functionCount,
        descriptorBytes: desc.length,
        codeBytes: code.length,
        functionsEnd: end,
        marginBytes: FUNCTION_END_LIMIT - 1 - end,
    }
}

/** Bytes of function code (descriptor included) per source file, largest first, from the
 *  `bytecode-dbg.json` that `devs build` writes next to the image. */
export function bytesPerSource(dbg: {
    sources: { path: string; index: number; length: number }[]
    functions: { location: number[]; size: number }[]
}): { path: string; bytes: number }[] {
    const sources = [...dbg.sources].sort((a, b) => a.index - b.index)
    const starts: number[] = []
    let offset = 0
    for (const s of sources) {
        starts.push(offset)
        offset += s.length
    }
    const bytes = new Map<string, number>()
    for (const f of dbg.functions) {
        // The last source whose start is at or before the function's location.
        let i = starts.length - 1
        while (i > 0 && starts[i] > f.location[0]) i--
        const path = sources[i].path
        bytes.set(path, (bytes.get(path) ?? 0) + f.size)
    }
    return [...bytes.entries()].map(([path, n]) => ({ path, bytes: n })).sort((a, b) => b.bytes - a.bytes)
}
