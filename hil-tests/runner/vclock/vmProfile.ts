// Deterministic profiler of the firmware bytecode: every N WASM instructions of the metered VM
// (wasmMeter.ts, sampling through em_time_now) it reads which DeviceScript function is running
// and its callers (vmInspect.ts), so work is attributed by instruction count, not by host time:
// the same run gives the same profile on any host, under any load.

import type { ImageFunction } from "./build"
import { VmInspector } from "./vmInspect"
import type { VmModule } from "./vmLoader"

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
    private readonly inspector: VmInspector

    constructor(
        bytecode: Uint8Array,
        readonly everyInstructions: number,
        private readonly functions: ImageFunction[] = [],
    ) {
        this.inspector = new VmInspector(bytecode)
    }

    private name(i: number): string {
        const f = this.functions[i]
        return f ? f.name + "_F" + i + " (" + f.file.replace(/^.*\//, "") + ")" : "F" + i
    }

    private add(m: Map<string, number>, k: string) {
        m.set(k, (m.get(k) ?? 0) + 1)
    }

    sample(vm: VmModule) {
        this.total++
        const { fns, task } = this.inspector.chain(vm)
        if (fns.length === 0) return this.add(this.self, "(native: no bytecode running)")
        if (task >= 0) this.add(this.tasks, this.name(task))
        const chain = fns.map(i => this.name(i))
        this.add(this.self, chain[0])
        for (const n of new Set(chain)) this.add(this.inclusive, n)
        const focus = process.env.VMPROF_FOCUS
        const at = focus ? chain.findIndex(n => n.startsWith(focus)) : -1
        if (at >= 0) this.add(this.focused, chain.slice(0, at + 1).reverse().join(" > "))
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
