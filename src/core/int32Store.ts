// Signed 32-bit integers in fixed-size Buffer chunks taken as the store fills. The VM keeps
// every array element as an 8-byte value and regrows an array by reallocating it whole, which
// fragmented its 64 KB heap until a 540-byte allocation failed with 9.5 KB free (vclock HIL,
// occlusion history at 56 s). Chunks of CHUNK values (4 bytes each) never need a block larger
// than CHUNK * 4 bytes. Byte writes and readUInt32LE reads: the same code runs in the VM and on Node.

const CHUNK = 64

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class Int32Store {
    private readonly chunks: Buffer[] = []

    /** `length`: the index range used, 0..length-1. Not kept: nothing reads it (chunks are taken
     *  as the store fills), and a field is image bytes and a heap slot per store. */
    constructor(length: number) {}

    /** Value at i; 0 where nothing was stored yet. */
    get(i: number): number {
        // i is a whole number in [0, length): i >> 6 is floor(i / CHUNK), (i & 63) * 4 the offset.
        const c = this.chunks[i >> 6]
        if (!c) return 0
        // One native read (Node's Buffer; on the VM a one-line library call to getAt "u32"): the
        // once-a-second occlusion pass reads ~45 values, and the byte loop cost ~3,000 VM opcodes
        // (issue 16). `| 0` turns the unsigned 32 bits into the signed value set() stored.
        return c.readUInt32LE((i & 63) << 2) | 0
    }

    /** Bytes of chunk storage taken so far (at most ceil(length / CHUNK) x CHUNK x 4). Not named
     *  `bytes`: a `.bytes` field read elsewhere in an image kept the method in it (48 B). */
    heldBytes(): number {
        return this.chunks.length * CHUNK * 4
    }

    /** Stores `v` as a signed 32-bit integer (callers pass integers in range). */
    set(i: number, v: number) {
        const k = i >> 6
        while (this.chunks.length <= k) this.chunks.push(Buffer.alloc(CHUNK * 4))
        const c = this.chunks[k]
        const o = (i & 63) << 2
        // Little-endian, unrolled (half the VM opcodes of a 4-step loop).
        c[o] = v & 0xff
        c[o + 1] = (v >> 8) & 0xff
        c[o + 2] = (v >> 16) & 0xff
        c[o + 3] = (v >> 24) & 0xff
    }
}
