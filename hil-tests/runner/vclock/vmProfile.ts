// Deterministic profiler of the firmware bytecode: every N WASM instructions of the metered VM
// (wasmMeter.ts, sampling through em_time_now) it reads which DeviceScript function is running
// and its callers, so work is attributed by instruction count, not by host time: the same run
// gives the same profile on any host, under any load.
//
// Reads the runtime's structures (DeviceScript 2.16, runtime/devicescript/devs_internal.h):
// devs_ctx_t holds `img` (the image's base address) followed by `curr_fn` (the running
// activation, 0 when no bytecode runs) and `curr_fiber`; devs_activation_t is { gc header,
// pc u16, maxpc u16, closure, caller, func }, func pointing at the function's 16-byte descriptor
// in the image; devs_fiber_t's bottom_function_idx (offset 22) names the fiber's task.

import { FunctionNamer, functionNamer, imageStrings } from "./heapCensus"
import type { VmModule } from "./vmLoader"

const u32 = (m: Uint8Array, a: number) => (m[a] | (m[a + 1] << 8) | (m[a + 2] << 16) | (m[a + 3] << 24)) >>> 0
const u16 = (m: Uint8Array, a: number) => m[a] | (m[a + 1] << 8)

/** The deepest call chain attributed per sample. */
const MAX_DEPTH = 40

export class VmProfiler {
    /** Samples by function running (self). */
    readonly self = new Map<string, number>()
    /** Samples by function anywhere on the running chain (inclusive). */
    readonly inclusive = new Map<string, number>()
    /** Samples by fiber task (the function at the bottom of the running fiber). */
    readonly tasks = new Map<string, number>()
    /** Chains under the function named by VMPROF_FOCUS (development aid). */
    readonly focused = new Map<string, number>()
    /** Chains of the slice running now; kept in `longSlices` if the slice is long. */
    private sliceChains = new Map<string, number>()
    /** Chains sampled in slices of more than longSliceInstructions (the stalls). */
    readonly longSlices = new Map<string, number>()
    longSliceInstructions = 10e6
    longSliceCount = 0
    total = 0
    private base = -1
    private ctxImg: number[] | undefined
    private chosen = -1
    private namer: FunctionNamer | undefined
    private fnStart = 0

    constructor(
        private readonly bytecode: Uint8Array,
        readonly everyInstructions: number,
    ) {}

    private add(m: Map<string, number>, k: string) {
        m.set(k, (m.get(k) ?? 0) + 1)
    }

    private locate(mem: Uint8Array) {
        const head = Buffer.from(this.bytecode.subarray(0, 64))
        const buf = Buffer.from(mem.buffer, mem.byteOffset, mem.length)
        // The image may be in memory more than once (the deploy buffer, the flash copy): the
        // one the VM runs is the one a pointer in the context points at.
        const cands: number[] = []
        for (let b = buf.indexOf(head); b >= 0; b = buf.indexOf(head, b + 1)) {
            for (let a = 0; a + 12 <= mem.length; a += 4) if (u32(mem, a) === b) cands.push(a)
            if (process.env.VMPROF_DEBUG) console.error("image copy at " + b + ", pointers to it at " + cands.join(","))
        }
        this.ctxImg = cands
    }

    sample(vm: VmModule) {
        const mem = vm.HEAPU8
        // Not found yet (the image is deployed after the first samples): look again now and then.
        if (!this.ctxImg || (this.chosen < 0 && this.total % 64 === 0)) this.locate(mem)
        this.total++
        if (!this.ctxImg || this.ctxImg.length === 0) return this.add(this.self, "(image not found)")
        const named = (act: number) => (act ? this.namer!(u32(mem, act + 16)) : undefined)
        if (this.chosen < 0) {
            for (const c of this.ctxImg) {
                const b = u32(mem, c)
                const nm = functionNamer(this.bytecode, b, imageStrings(this.bytecode))
                if (process.env.VMPROF_DEBUG && this.total % 64 === 0 && this.total < 2000) console.error("cand " + c + " base " + b + " +4 " + u32(mem, c + 4) + " +8 " + u32(mem, c + 8) + " func " + (u32(mem, c + 4) ? u32(mem, u32(mem, c + 4) + 16) : 0))
                const a = u32(mem, c + 4)
                if (a && a + 20 <= mem.length && nm(u32(mem, a + 16))) {
                    this.chosen = c
                    this.base = b
                    this.namer = nm
                    this.fnStart = u32(this.bytecode, 32)
                }
            }
            if (this.chosen < 0) return this.add(this.self, "(native: no bytecode running)")
        }
        let act = u32(mem, this.chosen + 4)
        if (!act) return this.add(this.self, "(native: no bytecode running)")
        const fiber = u32(mem, this.chosen + 8)
        if (fiber) {
            const idx = u16(mem, fiber + 22)
            this.add(this.tasks, this.namer(this.base + this.fnStart + idx * 16) ?? "task#" + idx)
        }
        this.add(this.self, named(act) ?? "?")
        const seen = new Set<string>()
        const chain: string[] = []
        for (let d = 0; act && d < MAX_DEPTH; d++) {
            const n = named(act) ?? "?"
            chain.push(n)
            if (!seen.has(n)) {
                seen.add(n)
                this.add(this.inclusive, n)
            }
            act = u32(mem, act + 12)
        }
        const focus = process.env.VMPROF_FOCUS
        if (focus && seen.has(focus)) this.add(this.focused, chain.slice(0, chain.indexOf(focus) + 1).reverse().join(" > "))
        this.add(this.sliceChains, chain.slice().reverse().join(" > "))
    }

    /** Called by the VM node after each slice with its instruction count. */
    endSlice(instructions: number, atMs = 0) {
        if (instructions >= this.longSliceInstructions) {
            this.longSliceCount++
            if (process.env.VMPROF_SLICES) {
                const top = [...this.sliceChains].sort((a, b) => b[1] - a[1]).slice(0, 3)
                console.error("long slice at " + atMs.toFixed(0) + " ms: " + (instructions / 1e6).toFixed(1) + " M instructions; " + top.map(([k, v]) => v + "x " + k).join(" | "))
            }
            for (const [k, v] of this.sliceChains) this.longSlices.set(k, (this.longSlices.get(k) ?? 0) + v)
        }
        this.sliceChains.clear()
    }

    /** The top `n` of each table, as % of samples. */
    report(n = 25): string {
        const top = (m: Map<string, number>, title: string) => {
            const rows = [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
            return [title, ...rows.map(([k, v]) => ((100 * v) / this.total).toFixed(1).padStart(6) + " %  " + k)].join("\n")
        }
        return [
            "profile: " + this.total + " samples, one every " + this.everyInstructions + " WASM instructions",
            top(this.tasks, "-- by task (function at the bottom of the running fiber)"),
            top(this.inclusive, "-- inclusive (function on the running chain)"),
            top(this.self, "-- self (function running)"),
            ...(this.focused.size > 0 ? [top(this.focused, "-- chains under " + process.env.VMPROF_FOCUS)] : []),
            ...(this.longSlices.size > 0 ? [top(this.longSlices, "-- chains in the " + this.longSliceCount + " slice(s) of over " + this.longSliceInstructions / 1e6 + " M instructions (% of all samples)")] : []),
        ].join("\n")
    }
}
