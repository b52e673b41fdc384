// Reads which DeviceScript function is running in the VM and its callers, from the runtime's own
// structures (DeviceScript 2.16, runtime/devicescript/devs_internal.h): devs_ctx_t holds `img`
// (the image's base address) followed by `curr_fn` (the running activation, 0 when no bytecode
// runs) and `curr_fiber`; devs_activation_t is { gc header, pc u16, maxpc u16, closure, caller,
// func }, func pointing at the function's 16-byte descriptor in the image; devs_fiber_t's
// bottom_function_idx (offset 22) is the fiber's task. Used by the profiler (vmProfile.ts) and by
// chip mode's rig accounting (vmNode.ts).

import { functionIndex, u16, u32 } from "./heapCensus"
import type { VmModule } from "./vmLoader"

/** The deepest call chain read. */
const MAX_DEPTH = 40

export class VmInspector {
    private cands: number[] | undefined
    private ctxImg = -1
    private base = -1
    private looks = 0

    constructor(private readonly bytecode: Uint8Array) {}

    /** The function of activation `act` (its `func` at offset 16), -1 if not one of the image's. */
    private index(mem: Uint8Array, act: number, base: number): number {
        return act && act + 20 <= mem.length ? functionIndex(this.bytecode, base, u32(mem, act + 16)) : -1
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

    /** True if a function of `set` is on the running chain (chip mode's rig test). */
    chainHas(vm: VmModule, set: Set<number>): boolean {
        for (const i of this.chain(vm).fns) if (set.has(i)) return true
        return false
    }
}
