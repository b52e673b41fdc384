// One DeviceScript VM on the virtual clock: loads the bytecode, steps the VM when it asks to run
// (`_jd_em_process` returns the µs until its next deadline) or when a frame arrives, and passes
// its Jacdac frames to and from the bus through the clock's queue (never re-entering the VM).
//
// Chip speed: with a chip factor F > 0, the VM runs metered (wasmMeter.ts: it counts the WASM
// instructions it executes) and each slice is charged its instruction count x the host's
// calibrated time per instruction x F on the virtual clock (chip.ts): the VM's clock reads that
// much later after the slice (within a slice it reads the slice's start), and the VM cannot run
// again nor take a frame until the charged time has passed, as a slower CPU would not. The
// count depends on nothing but the VM's work, so chip mode is deterministic too, and a loaded
// host (CI's two cores) charges no more than an idle one.

import { createVm, VmModule } from "./vmLoader"
import { census, findGcChunk, FunctionNamer, functionNamer, HeapCensus, imageStrings, u32 } from "./heapCensus"
import type { VirtualClock } from "./clock"
import { HOST_NS_PER_WASM_INSTRUCTION, RIG_SAMPLE_INSTRUCTIONS } from "./chip"
import type { VmProfiler } from "./vmProfile"
import { VmInspector } from "./vmInspect"

export interface VmNodeOptions {
    clock: VirtualClock
    bytecode: Uint8Array
    /** 16 hex digits: fixed so role bindings and traces do not depend on a random id. */
    deviceId: string
    /** Seed of the VM's random source. */
    seed: number
    /** Non-volatile memory shared across power cycles (the simulator's flash file). */
    flash: { data: Uint8Array }
    /** 0: the VM runs in zero virtual time (deterministic); >0: chip-time factor (see above). */
    chipFactor: number
    /** Count instructions in zero-time mode too (calibration; chip mode always counts). */
    countInstructions?: boolean
    /** Sample the running bytecode every profiler.everyInstructions (implies counting). */
    profiler?: VmProfiler
    /** Chip mode: function indices of the rig's own work in the image (the controller model, the
     *  HIL reporting; chip.ts RIG_FILES). Instructions run with one of them on the chain are
     *  counted (sampled every RIG_SAMPLE_INSTRUCTIONS) and not charged. */
    rigFunctions?: Set<number>
    /** After every slice: its start on the virtual clock and the chip time charged for it. */
    onSliceCharged?: (atMs: number, chargedMs: number) => void
    /** Every console/dmesg line of the VM. */
    onLine: (line: string) => void
    /** A frame the VM sent (delivered on the clock's queue, outside the VM call). */
    onFrame: (frame: Uint8Array) => void
    /** The VM panicked or stopped with an error: the run is broken. */
    onFault: (why: string) => void
    /** Asked before each slice: true if a heap census is due now. That slice then runs with a
     *  collection at every allocation (so the heap holds live data only, as after the runtime's
     *  own collection before an out-of-memory panic) and `onCensus` gets the census after it. */
    censusDue?: (nowMs: number) => boolean
    onCensus?: (atMs: number, c: HeapCensus) => void
}

/** Per-run statistics of the VM's cost on this host. */
export interface VmStats {
    slices: number
    framesIn: number
    framesOut: number
    /** Wall time of this host inside VM calls (what the run cost here, not what is charged). */
    hostMs: number
    /** WASM instructions the VM executed (metered VM only, else 0). */
    instructions: number
    /** Of those, sampled as the rig's own work (chip mode with rigFunctions), not charged. */
    rigInstructions: number
    /** Virtual time charged for the VM's work (chip mode): instructions x ns/instruction x F. */
    chargedMs: number
    maxSliceHostMs: number
    /** The largest instruction count of one slice. */
    maxSliceInstructions: number
}

/** xorshift32: a small seeded generator for the VM's random bytes. */
export function xorshift(seed: number): () => number {
    let s = seed >>> 0 || 0x9e3779b9
    return () => {
        s ^= s << 13
        s >>>= 0
        s ^= s >>> 17
        s ^= s << 5
        s >>>= 0
        return s
    }
}

export class VmNode {
    private vm: VmModule | undefined
    private wakeId: number | undefined
    private busyUntilMs = 0
    private inbox: Uint8Array[] = []
    private outbox: Uint8Array[] = []
    private stopped = false
    private chunkHint: number | undefined
    readonly stats: VmStats = { slices: 0, framesIn: 0, framesOut: 0, hostMs: 0, instructions: 0, rigInstructions: 0, chargedMs: 0, maxSliceHostMs: 0, maxSliceInstructions: 0 }
    /** Rig instructions sampled in the slice running now. */
    private sliceRig = 0
    private samples = 0

    constructor(private o: VmNodeOptions) {}

    /** The VM's clock: the virtual time at which its slice started. In chip mode a slice's
     *  cost is charged when it ends (the clock cannot read ahead of what is charged, so the
     *  firmware's clock stays monotonic and equal to the co-simulation's). */
    private vmNowMs(): number {
        return this.o.clock.nowMs
    }

    async boot() {
        const rnd = xorshift(this.o.seed)
        const vm = await createVm(
            {
                nowMs: () => this.vmNowMs(),
                random: out => {
                    for (let i = 0; i < out.length; i++) out[i] = rnd() & 0xff
                },
            },
            this.o.chipFactor > 0 || !!this.o.countInstructions,
            this.sampler(),
        )
        this.vm = vm
        vm.dmesg = (s: string) => {
            if (!this.stopped) this.o.onLine(s)
        }
        vm.log = (...a: unknown[]) => this.o.onLine(a.join(" "))
        vm.error = (...a: unknown[]) => this.fault("VM error: " + a.join(" "))
        vm.panicHandler = (code: number) => {
            if (code) this.fault("VM panic " + code)
            else this.fault("VM program exited")
        }
        vm.sendPacket = (pkt: Uint8Array) => {
            if (this.stopped) return
            this.stats.framesOut++
            // Copied (the VM's heap is reused); delivered after the slice that sent it, never inside.
            this.outbox.push(new Uint8Array(pkt))
        }
        // The glue asks on every VM turn whether TCP sockets exist by calling require("tls") (about
        // 0.2 ms of host time per virtual second, charged as chip time in chip mode): the answer
        // cannot change within a process, so it is asked once.
        const sockets = (vm as unknown as { sockIsAvailable(): boolean }).sockIsAvailable()
        ;(vm as unknown as { sockIsAvailable(): boolean }).sockIsAvailable = () => sockets
        vm.flashLoad = () => this.o.flash.data
        vm.flashSave = (buf: Uint8Array) => {
            this.o.flash.data = new Uint8Array(buf)
        }
        vm.devsGcStress(false) // as plain `devs run` (the sim path): no collection at every allocation
        vm.devsSetDeviceId(this.o.deviceId) // also initialises the VM (jd_em_init)
        const r = vm.devsDeploy(this.o.bytecode)
        if (r) throw new Error("VM refused the bytecode: deploy error " + r)
        // `devs run` (devsStart) runs the first slice 10 ms after start.
        this.schedule(10)
    }

    /** The VM's sampling hook: the profiler's, the rig accounting's (chip mode), or both at the
     *  rig's period with the profiler fed every k-th sample. */
    private sampler() {
        const prof = this.o.profiler
        const rig = this.o.chipFactor > 0 && this.o.rigFunctions && this.o.rigFunctions.size > 0 ? this.o.rigFunctions : undefined
        if (!prof && !rig) return undefined
        const every = rig ? RIG_SAMPLE_INSTRUCTIONS : prof!.everyInstructions
        const k = prof && rig ? Math.max(1, Math.round(prof.everyInstructions / every)) : 1
        const inspector = rig ? new VmInspector(this.o.bytecode) : undefined
        return {
            everyInstructions: every,
            onSample: (vm: VmModule) => {
                if (inspector && rig && inspector.chainHas(vm, rig)) this.sliceRig += every
                if (prof && this.samples++ % k === 0) prof.sample(vm)
            },
        }
    }

    /** Power cut: the VM stops where it is; nothing more runs, no shutdown code. */
    stop() {
        this.stopped = true
        if (this.wakeId !== undefined) this.o.clock.clearTimeout(this.wakeId)
        this.wakeId = undefined
        this.vm = undefined
    }

    /** A frame from the bus. Taken when the VM is free (at once, or after its charged slice). */
    receive(frame: Uint8Array) {
        if (this.stopped) return
        this.inbox.push(frame)
        this.schedule(Math.max(0, this.busyUntilMs - this.o.clock.nowMs))
    }

    /** Census of the VM's GC heap now (see heapCensus.ts). */
    takeCensus(vm: VmModule) {
        const mem = vm.HEAPU8
        const chunk = findGcChunk(mem, this.chunkHint)
        if (chunk === undefined) {
            this.o.onLine("heap census: GC chunk not found in the VM's memory")
            return
        }
        this.chunkHint = chunk
        this.imgStrings ??= imageStrings(this.o.bytecode)
        this.fnNamer ??= this.findFunctionNamer(mem)
        this.o.onCensus?.(this.o.clock.nowMs, census(mem, chunk, this.imgStrings, this.fnNamer))
    }
    private imgStrings: ReturnType<typeof imageStrings> | undefined
    private censusPending = false

    /** The runtime's allocation count (devs_gc_t { first_free, first_chunk, num_alloc, ... }, just
     *  before the chunk), or undefined if the heap is not found there. */
    private allocCount(vm: VmModule): number | undefined {
        const mem = vm.HEAPU8
        const chunk = findGcChunk(mem, this.chunkHint)
        if (chunk === undefined || chunk < 24) return undefined
        this.chunkHint = chunk
        return u32(mem, chunk - 20) === chunk ? u32(mem, chunk - 16) : undefined
    }
    private fnNamer: FunctionNamer | undefined

    /** The VM keeps its own copy of the image (devsDeploy): found by its first 64 bytes. */
    private findFunctionNamer(mem: Uint8Array): FunctionNamer | undefined {
        const head = this.o.bytecode.subarray(0, 64)
        const base = Buffer.from(mem.buffer, mem.byteOffset, mem.length).indexOf(head)
        return base < 0 ? undefined : functionNamer(this.o.bytecode, base, this.imgStrings!)
    }

    private schedule(delayMs: number) {
        if (this.stopped) return
        if (this.wakeId !== undefined) this.o.clock.clearTimeout(this.wakeId)
        this.wakeId = this.o.clock.setTimeout(() => this.slice(), delayMs)
    }

    private fault(why: string) {
        if (this.stopped) return
        this.stop()
        this.o.onFault(why)
    }

    private slice() {
        this.wakeId = undefined
        const vm = this.vm
        if (!vm || this.stopped) return
        const clock = this.o.clock
        if (clock.nowMs < this.busyUntilMs) {
            this.schedule(this.busyUntilMs - clock.nowMs)
            return
        }
        const t0 = performance.now()
        const i0 = vm.instructions ? vm.instructions() : 0
        this.sliceRig = 0
        let us = 0
        // A census waits for a slice that allocates: the collection at every allocation runs only
        // then, and a slice that allocates nothing leaves the garbage since the last collection in
        // the heap (up to a quarter of it: the runtime collects after heap/4 of allocations), which
        // a census would count as live (dead call frames: the "activation" swings of 45-250).
        const censusNow = this.censusPending || (!!this.o.censusDue && this.o.censusDue(clock.nowMs))
        const allocsBefore = censusNow ? this.allocCount(vm) : undefined
        if (censusNow) vm.devsGcStress(true)
        try {
            // As the CLI's handlePacket: each frame is handed over, then the VM processes.
            while (this.inbox.length > 0) {
                const f = this.inbox.shift()!
                this.stats.framesIn++
                const p = vm._malloc(f.length)
                vm.HEAPU8.set(f, p)
                vm._jd_em_frame_received(p)
                vm._free(p)
            }
            us = vm._jd_em_process()
        } catch (e) {
            this.fault("VM threw: " + (e as Error).message)
            return
        }
        if (censusNow && !this.stopped) {
            vm.devsGcStress(false)
            const allocsAfter = this.allocCount(vm)
            this.censusPending = allocsBefore !== undefined && allocsAfter === allocsBefore
            if (!this.censusPending) this.takeCensus(vm)
        }
        const hostMs = performance.now() - t0
        const instructions = vm.instructions ? vm.instructions() - i0 : 0
        this.stats.slices++
        this.stats.hostMs += hostMs
        this.stats.instructions += instructions
        if (hostMs > this.stats.maxSliceHostMs) this.stats.maxSliceHostMs = hostMs
        if (instructions > this.stats.maxSliceInstructions) this.stats.maxSliceInstructions = instructions
        this.o.profiler?.endSlice(instructions, clock.nowMs)
        // Sampling attributes whole periods, so a slice's rig share can exceed its count by less
        // than one period: never charge below zero.
        const rigInstructions = Math.min(this.sliceRig, instructions)
        this.stats.rigInstructions += rigInstructions
        const charged = this.o.chipFactor > 0 ? ((instructions - rigInstructions) * HOST_NS_PER_WASM_INSTRUCTION * this.o.chipFactor) / 1e6 : 0
        this.stats.chargedMs += charged
        this.o.onSliceCharged?.(clock.nowMs, charged)
        this.busyUntilMs = clock.nowMs + charged
        // Development aid: every slice with its cost (VCLOCK_SLICES=1).
        if (process.env.VCLOCK_SLICES) console.error("slice t=" + clock.nowMs.toFixed(1) + " frames=" + this.stats.framesIn + " instr=" + (instructions / 1e6).toFixed(2) + "M charged=" + charged.toFixed(1) + "ms next=" + (us / 1000).toFixed(1))
        if (this.stopped) return
        if (this.outbox.length > 0) {
            // Frames leave when the slice that sent them has been charged (at once in zero-time mode).
            const out = this.outbox
            this.outbox = []
            clock.setTimeout(() => {
                for (const f of out) if (!this.stopped) this.o.onFrame(f)
            }, charged)
        }
        const nextMs = Math.max(charged, us / 1000)
        this.schedule(this.inbox.length > 0 ? charged : nextMs)
    }
}
