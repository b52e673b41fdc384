// Signed 32-bit integers in fixed-size Buffer chunks taken as the store fills. The VM keeps
// every array element as an 8-byte value and regrows an array by reallocating it whole, which
// fragmented its 64 KB heap until a 540-byte allocation failed with 9.5 KB free (vclock HIL,
// occlusion history at 56 s). Chunks of CHUNK values (4 bytes each) never need a block larger
// than CHUNK * 4 bytes. Byte access only: the same code runs in the VM and on Node.

const CHUNK = 64

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class Int32Store {
    private readonly chunks: Buffer[] = []
    readonly length: number

    constructor(length: number) {
        this.length = length
    }

    /** Value at i; 0 where nothing was stored yet. */
    get(i: number): number {
        const c = this.chunks[Math.floor(i / CHUNK)]
        if (!c) return 0
        const o = (i % CHUNK) * 4
        // Little-endian; the top byte's shift gives the sign (signed 32-bit result).
        let v = 0
        for (let j = 3; j >= 0; j--) v = (v << 8) | c[o + j]
        return v
    }

    /** Bytes of chunk storage taken so far (at most ceil(length / CHUNK) x CHUNK x 4). */
    bytes(): number {
        return this.chunks.length * CHUNK * 4
    }

    /** Stores `v` as a signed 32-bit integer (callers pass integers in range). */
    set(i: number, v: number) {
        const k = Math.floor(i / CHUNK)
        while (this.chunks.length <= k) this.chunks.push(Buffer.alloc(CHUNK * 4))
        const c = this.chunks[k]
        const o = (i % CHUNK) * 4
        for (let j = 0; j < 4; j++) c[o + j] = (v >> (8 * j)) & 0xff
    }
}
