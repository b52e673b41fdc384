// Reads which DeviceScript function is running in the VM and its callers, from the runtime's own
// structures (DeviceScript 2.16, runtime/devicescript/devs_internal.h): devs_ctx_t holds `img`
// (the image's base address) followed by `curr_fn` (the running activation, 0 when no bytecode
// runs) and `curr_fiber`; devs_activation_t is { gc header, pc u16, maxpc u16, closure, caller,
// func }, func pointing at the function's 16-byte descriptor in the image; devs_fiber_t's
// bottom_function_idx (offset 22) is the fiber's task. Used by the profiler (vmProfile.ts) and by
// chip mode's rig accounting (vmNode.ts).

import type { VmModule } from "./vmLoader"

const u32 = (m: Uint8Array, a: number) => (m[a] | (m[a + 1] << 8) | (m[a + 2] << 16) | (m[a + 3] << 24)) >>> 0
const u16 = (m: Uint8Array, a: number) => m[a] | (m[a + 1] << 8)

/** The deepest call chain read. */
const MAX_DEPTH = 40

export class VmInspector {
    private cands: number[] | undefined
    private ctxImg = -1
    private base = -1
    private fnStart: number
    private fnCount: number
    private looks = 0

    constructor(private readonly bytecode: Uint8Array) {
        this.fnStart = u32(bytecode, 32)
        this.fnCount = u32(bytecode, 36) / 16
    }

    private index(mem: Uint8Array, act: number, base: number): number {
        if (!act || act + 20 > mem.length) return -1
        const off = u32(mem, act + 16) - base - this.fnStart
        return off >= 0 && off % 16 === 0 && off / 16 < this.fnCount ? off / 16 : -1
    }

    /** Pointers to a copy of the image: ctx->img is one of them (the image may be in memory more
     *  than once, and the context is made after the image is deployed, so look again until the
     *  running activation names a function). */
    private locate(mem: Uint8Array) {
        const head = Buffer.from(this.bytecode.subarray(0, 64))
        const buf = Buffer.from(mem.buffer, mem.byteOffset, mem.length)
        const cands: number[] = []
        for (let b = buf.indexOf(head); b >= 0; b = buf.indexOf(head, b + 1)) {
            for (let a = 0; a + 12 <= mem.length; a += 4) if (u32(mem, a) === b) cands.push(a)
        }
        this.cands = cands
    }

    /** Function indices on the running chain, innermost first ([] when no bytecode runs), and
     *  the running fiber's task (-1 if none). */
    chain(vm: VmModule): { fns: number[]; task: number } {
        const mem = vm.HEAPU8
        if (this.ctxImg < 0) {
            if (!this.cands || this.looks++ % 64 === 0) this.locate(mem)
            for (const c of this.cands ?? []) {
                if (this.index(mem, u32(mem, c + 4), u32(mem, c)) >= 0) {
                    this.ctxImg = c
                    this.base = u32(mem, c)
                }
            }
            if (this.ctxImg < 0) return { fns: [], task: -1 }
        }
        const fns: number[] = []
        let act = u32(mem, this.ctxImg + 4)
        for (let d = 0; act && d < MAX_DEPTH; d++) {
            const i = this.index(mem, act, this.base)
            if (i < 0) break
            fns.push(i)
            act = u32(mem, act + 12)
        }
        const fiber = u32(mem, this.ctxImg + 8)
        return { fns, task: fiber && fns.length > 0 ? u16(mem, fiber + 22) : -1 }
    }

    /** True if a function of `set` is on the running chain (the chip-mode rig test: stops at the
     *  first match, reads words through a 32-bit view). */
    chainHas(vm: VmModule, set: Set<number>): boolean {
        if (this.ctxImg < 0) {
            this.chain(vm)
            if (this.ctxImg < 0) return false
        }
        const mem = vm.HEAPU8
        if (!this.w32 || this.w32.buffer !== mem.buffer) this.w32 = new Uint32Array(mem.buffer, mem.byteOffset, mem.length >> 2)
        const w = this.w32
        const lo = this.base + this.fnStart
        let act = w[(this.ctxImg + 4) >> 2]
        for (let d = 0; act && d < MAX_DEPTH; d++) {
            const off = w[(act + 16) >> 2] - lo
            if (off < 0 || off % 16 !== 0) return false
            if (set.has(off / 16)) return true
            act = w[(act + 12) >> 2]
        }
        return false
    }
    private w32: Uint32Array | undefined
}
