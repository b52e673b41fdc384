// vclock backend: the real firmware bytecode (the same image the sim backend runs) in a
// DeviceScript WASM VM hosted in this process on a virtual clock, its Jacdac frames bridged to an
// in-process jacdac-ts bus on the same clock that serves the rig (hil-tests/runner/rig.ts), and
// the plant moved by the firmware's HIL lines (hil-tests/runner/session.ts, as on the sim path).
// A lock-step co-simulation: every component runs when the clock reaches its next timer, and no
// component waits on the wall clock, so a scenario runs as fast as the host executes the VM and
// the same scenario and seed give the same trace (zero-time VM mode; see vmNode.ts for chip mode).

import { createRequire } from "node:module"
import { evaluate, ScenarioResult, Trace } from "../evaluate"
import { SimRig } from "../rig"
import type { Scenario } from "../scenario"
import { HilSession, LogSink, ROLES } from "../session"
import { plantFor } from "../sim"
import { VirtualClock } from "./clock"
import { VmNode, VmStats } from "./vmNode"
import type { VmProfiler } from "./vmProfile"
import { formatCensus, HeapCensus } from "./heapCensus"

const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jd: any = require("jacdac-ts")

/** Virtual time allowed for boot: program loaded and every rig role bound. */
const BOOT_LIMIT_MS = 60000
/** Scenario time step while the power is off (no firmware clock then), as the sim backend. */
const OFF_STEP_MS = 20

export interface VclockOptions {
    /** Bytecode of the HIL firmware with this scenario's program (see build.ts). */
    bytecode: Uint8Array
    /** The VM's device id: selects this scenario's program in the image (build.ts). */
    deviceId: string
    /** 0: VM slices take no virtual time (deterministic). >0: chip factor (chip.ts). */
    chipFactor: number
    chipName?: string
    /** Count the VM's instructions in zero-time mode too (calibration of chip.ts). */
    countInstructions?: boolean
    /** Deterministic bytecode profile (vmProfile.ts), across the scenario's boots. */
    profiler?: VmProfiler
    /** Chip mode: the image's rig functions, not charged (vmNode.ts, chip.ts RIG_FILES). */
    rigFunctions?: Set<number>
    log: LogSink
    verbose?: boolean
    mutation?: string
    /** Heap censuses at these virtual-clock times (s; the firmware's clock on its first boot). */
    heapCensusS?: number[]
    /** Where the census text goes (default: log). */
    censusLog?: LogSink
}

/** Summary of one heap census (full census printed to the log). */
export interface HeapFigure {
    atS: number
    usedBytes: number
    freeBytes: number
    maxFreeBlock: number
    blocks: number
}

export interface VclockResult extends ScenarioResult {
    /** Virtual seconds run (boot included) and wall seconds of the co-simulation (build excluded). */
    virtualS: number
    cosimWallS: number
    speedup: number
    /** CPU seconds this process used for the run (user + system): the load-independent cost. */
    cpuS: number
    /** Loop turns (instants at which something ran). */
    turns: number
    vm: VmStats
    /** The run's samples and events, for the determinism check. */
    trace: Trace
    /** Heap censuses taken (--heap-census). */
    heap: HeapFigure[]
    /** Chip mode: the longest chip time charged to one VM slice once the scenario ran (after
     *  boot): how long the runtime could take no report and run no timer (REQ-BUD-009). */
    maxRunSliceChipMs: number
    /** Chip mode: chip time charged to slices once the scenario ran, over the virtual time since
     *  (the busy share in service, boot excluded). */
    runBusy: number
}

/** Lets promise chains started by the last timers settle (jacdac-ts handlers are async). */
const settle = () => new Promise<void>(res => setImmediate(res))

export async function runVclockScenario(sc: Scenario, o: VclockOptions): Promise<VclockResult> {
    const wall0 = performance.now()
    const cpu0 = process.cpuUsage()
    const clock = new VirtualClock()
    const flash = { data: new Uint8Array(0) } // fresh non-volatile memory, kept across power cycles
    const vmStats: VmStats = { slices: 0, framesIn: 0, framesOut: 0, hostMs: 0, instructions: 0, rigInstructions: 0, chargedMs: 0, maxSliceHostMs: 0, maxSliceInstructions: 0 }
    let vm: VmNode | undefined
    let fault: string | undefined
    let offTimer: number | undefined
    let boots = 0
    let turns = 0
    const heap: HeapFigure[] = []
    // Census times on the virtual clock (ms, ascending): --heap-census ones from the start, the
    // scenario's heap checks (scenario time) once the scenario clock starts.
    let censusAtMs = (o.heapCensusS ?? []).map(s => s * 1000).sort((a, b) => a - b)
    const censusDue = (nowMs: number) => {
        let due = false
        while (censusAtMs.length > 0 && censusAtMs[0] <= nowMs) {
            censusAtMs.shift()
            due = true
        }
        return due
    }
    let scenarioStartMs = -1
    let maxRunSliceChipMs = 0
    let runChargedMs = 0
    const heapChecks = sc.expect.filter(e => e.check === "heap").map(e => (e as { atS: number }).atS)

    const bridge = jd.createProxyBridge((data: Uint8Array) => {
        const f = new Uint8Array(data)
        // Never into the VM from inside a bus handler: on the clock's queue, at the same instant.
        clock.setTimeout(() => vm?.receive(f), 0)
    })
    const rig = new SimRig()

    const foldStats = (n: VmNode) => {
        const s = n.stats
        vmStats.slices += s.slices
        vmStats.framesIn += s.framesIn
        vmStats.framesOut += s.framesOut
        vmStats.hostMs += s.hostMs
        vmStats.instructions += s.instructions
        vmStats.rigInstructions += s.rigInstructions
        vmStats.chargedMs += s.chargedMs
        vmStats.maxSliceHostMs = Math.max(vmStats.maxSliceHostMs, s.maxSliceHostMs)
        vmStats.maxSliceInstructions = Math.max(vmStats.maxSliceInstructions, s.maxSliceInstructions)
    }

    const bootVm = () => {
        const node = new VmNode({
            clock,
            bytecode: o.bytecode,
            deviceId: o.deviceId,
            seed: 1 + boots++,
            flash,
            chipFactor: o.chipFactor,
            countInstructions: o.countInstructions,
            profiler: o.profiler,
            rigFunctions: o.rigFunctions,
            onSliceCharged: (atMs, chargedMs) => {
                if (scenarioStartMs < 0 || atMs < scenarioStartMs) return
                runChargedMs += chargedMs
                if (chargedMs > maxRunSliceChipMs) maxRunSliceChipMs = chargedMs
            },
            onLine: l => {
                const e = l.indexOf("vclock-error=")
                if (e >= 0) fault = l.slice(e + 13)
                session.onLine(l)
            },
            onFrame: f => bridge.receiveFrameOrPacket(f),
            onFault: why => {
                if (session.powered) fault = why
            },
            censusDue,
            onCensus: (atMs: number, c: HeapCensus) => {
                heap.push({ atS: atMs / 1000, usedBytes: c.usedBytes, freeBytes: c.freeBytes, maxFreeBlock: c.maxFreeBlock, blocks: c.blocks })
                if (scenarioStartMs >= 0) (session.trace.heap ??= []).push({ tS: (atMs - scenarioStartMs) / 1000, usedBytes: c.usedBytes, freeBytes: c.freeBytes, maxFreeBlock: c.maxFreeBlock })
                ;(o.censusLog ?? o.log)(formatCensus(c, "[" + sc.name + "] at " + (atMs / 1000).toFixed(1) + " s (virtual clock)"))
            },
        })
        vm = node
        node.boot().catch(e => {
            fault = "VM boot failed: " + (e as Error).message
        })
    }

    const session: HilSession = new HilSession(
        sc,
        plantFor(sc, o.mutation),
        {
            update: plant => rig.update(plant.sensors()),
            press: (key, holdMs) => rig.press(key, holdMs),
            setPressurePlugged: p => rig.setPressurePlugged(p),
            powerOff: () => {
                if (vm) {
                    vm.stop()
                    foldStats(vm)
                }
                vm = undefined
                offTimer = clock.setInterval(() => session.offTick(OFF_STEP_MS / 1000), OFF_STEP_MS)
            },
            powerOn: () => {
                if (offTimer !== undefined) clock.clearInterval(offTimer)
                offTimer = undefined
                bootVm()
            },
        },
        o.log,
        o.verbose,
    )

    const backend = (o.chipFactor > 0 ? "vclock@" + (o.chipName ?? "x" + o.chipFactor) : "vclock") + (o.mutation ? "!" + o.mutation : "")
    try {
        await rig.connectBridge(bridge, clock)
        rig.setPressurePlugged(true)
        rig.update(session.plant.sensors())
        bootVm()
        let phase: "boot" | "run" = "boot"
        let readyAtMs = 0
        const limitMs = (sc.durationS * 2 + 60) * 1000
        for (;;) {
            turns++
            clock.runDue()
            await settle()
            if (fault) throw new Error(fault)
            if (phase === "boot") {
                if (session.ready) {
                    phase = "run"
                    readyAtMs = clock.nowMs
                    scenarioStartMs = readyAtMs
                    censusAtMs = [...censusAtMs, ...heapChecks.map(s => readyAtMs + s * 1000)].sort((a, b) => a - b)
                    await session.applyDue()
                    continue
                }
                if (clock.nowMs > BOOT_LIMIT_MS) throw new Error("firmware did not load the program and bind all rig roles (" + ROLES.join(", ") + ") within " + BOOT_LIMIT_MS / 1000 + " s of virtual time")
            } else {
                if (session.scenT >= sc.durationS) break
                if (clock.nowMs - readyAtMs > limitMs) throw new Error("scenario clock did not reach " + sc.durationS + " s within " + limitMs / 1000 + " s of virtual time")
            }
            const next = clock.nextDueMs()
            if (next === undefined) throw new Error("co-simulation stalled: nothing left to run")
            clock.advanceTo(next)
        }
    } catch (e) {
        session.trace.error = (e as Error).message + " (last firmware t=" + session.lastVmT + " ms, roles bound: " + [...session.bound].join(",") + ")"
    } finally {
        session.powered = false
        if (vm) {
            vm.stop()
            foldStats(vm)
        }
        await rig.close().catch((): void => undefined)
    }
    const wallS = (performance.now() - wall0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const cpuS = (cpu.user + cpu.system) / 1e6
    const virtualS = clock.nowMs / 1000
    const r = evaluate(sc, session.trace, backend, wallS)
    return { ...r, virtualS, cosimWallS: wallS, speedup: virtualS / wallS, cpuS, turns, vm: vmStats, trace: session.trace, heap, maxRunSliceChipMs, runBusy: scenarioStartMs >= 0 && clock.nowMs > scenarioStartMs ? runChargedMs / (clock.nowMs - scenarioStartMs) : 0 }
}
