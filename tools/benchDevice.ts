// Device budget (`npm run bench:device`): figures that do not depend on the host.
//  1. VM opcodes per control tick (steady state and worst cases) and per forged remote packet,
//     by the InfiniteLoop ruler in src/vmbench/opcodeProbe.ts (one VM process per probe; the
//     per-turn limit is DEVS_MAX_STEPS = 131,072 opcodes in DeviceScript's runtime).
//  2. An estimate of time per chip from those counts, its assumptions printed with it.
//  3. Bytecode size per firmware entry against each chip's program space; the board images are
//     built with the signed reference library embedded (it travels in the image, REQ-BUD-004).
// Probes run in a private copy of the sources (--root, default a temp dir) so the worktree's
// own .devicescript build output is untouched. Slow (each probe compiles): about 25 s a probe.
import { execFileSync, spawn } from "node:child_process"
import { cpSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

import { DEFAULT_SAVE_INTERVAL_MS } from "../src/core/persist/powerSafety"
import { CELL_SLOT_BYTES } from "../src/core/persist/settingsLayout"
import {
    FLASH_ENDURANCE_CYCLES,
    fitsWithHeadroom,
    fstorBytes,
    BOARD_LIBRARY_BANKS,
    persistedKeys,
    REFERENCE_LIBRARY_BYTES,
    SETTINGS_AREA_BYTES,
    snapshotWear,
    periodicBytesPerS,
    totalBytes,
    usableBytes,
} from "../src/core/persist/settingsBudget"
import { MAINT_SAVE_INTERVAL_MS } from "../src/core/persist/maintenance"
import { CONTROL_PERIOD_MS } from "../src/core/pump"
import { UI_TICK_MS } from "../src/core/ui/panel"
import { ADMIT_PERIODS, ADMIT_SPACING_MS } from "../src/core/remote/endpoint"
import { compileFile } from "./druglib/compile"
import { BOARD_LIBRARY_MODULE, boardLibraryModule } from "./druglib/embed"
import { newKeyHex, sign } from "./druglib/sign"

const REPO = resolve(import.meta.dirname, "..")
const MAX_STEPS = 128 * 1024

function makeRoot(): string {
    const root = mkdtempSync(join(tmpdir(), "benchdev-"))
    for (const f of ["src", "boards", "devsconfig.json", "package.json", "tsconfig.json"]) {
        try {
            cpSync(join(REPO, f), join(root, f), { recursive: true })
        } catch {}
    }
    symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"))
    return root
}

/** Runs one probe; true when the measured turn completed, false on InfiniteLoop. */
function probe(root: string, scenario: string, spin: number, ballast = 0): Promise<boolean> {
    writeFileSync(
        join(root, "src/vmbench/probeParams.ts"),
        `// Written by tools/benchDevice.ts\nexport const PROBE_SCENARIO: string = "${scenario}"\nexport const PROBE_SPIN: number = ${spin}\nexport const PROBE_BALLAST_BYTES: number = ${ballast}\n`
    )
    return new Promise((res, rej) => {
        // `--test` turns on GC stress (slower warm-up) but opcode counts do not depend on it.
        const p = spawn("npx", ["devs", "run", "src/vmbench/opcodeProbe.ts", "--test", "--test-self-exit", "--test-timeout", "170000"], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] })
        let out = ""
        let done = false
        const finish = (v: boolean | Error) => {
            if (done) return
            done = true
            try {
                process.kill(-p.pid!, "SIGTERM")
            } catch {}
            if (v instanceof Error) rej(v)
            else res(v)
        }
        const timer = setTimeout(() => finish(new Error(`probe ${scenario} ${spin} timed out:\n${out.slice(-2000)}`)), 180000)
        const onData = (d: Buffer) => {
            out += d.toString()
            if (out.includes("PROBE_OK")) finish(true)
            // A ballast too large for one buffer throws instead of running out of memory: no fit either.
            else if (out.includes("InfiniteLoop") || (ballast > 0 && /OutOfMemory|Unhandled exception/.test(out))) finish(false)
            else if (/OutOfMemory|Exception|error TS|Unhandled/.test(out)) finish(new Error(`probe ${scenario} ${spin} ${ballast} failed:\n${out.slice(-2000)}`))
            if (done) clearTimeout(timer)
        }
        p.stdout.on("data", onData)
        p.stderr.on("data", onData)
        p.on("close", () => {
            clearTimeout(timer)
            if (out.includes("PROBE_OK")) finish(true)
            else if (out.includes("InfiniteLoop") || (ballast > 0 && /OutOfMemory|Unhandled exception/.test(out))) finish(false)
            else finish(new Error(`probe ${scenario} exited:\n${out.slice(-2000)}`))
        })
    })
}

/** Largest spin in [lo, hi] that completes (lo must complete, hi+1 must not). */
async function bisect(root: string, scenario: string, lo: number, hi: number, resolution: number, ballastMode = false): Promise<number> {
    while (hi - lo > resolution) {
        const mid = Math.floor((lo + hi) / 2)
        if (ballastMode ? await probe(root, scenario, 0, mid) : await probe(root, scenario, mid)) lo = mid
        else hi = mid
    }
    return lo
}

// CoreMark per MHz ratios from issue 16 (vendor-published CoreMark scores; no chip measured here).
const CHIPS = [
    { name: "RP2040 (Cortex-M0+, 133 MHz)", coremark: [150, 240], programKb: 110, entry: "src/entries/rp2040.ts" },
    { name: "ESP32-S3 (Xtensa LX7, 240 MHz)", coremark: [500, 650], programKb: 220, entry: "src/entries/esp32s3.ts" },
]
const HOST_COREMARK = 45000

function settingsReport() {
    console.log("== settings flash (fstor bytes: 24-byte entry + data rounded up to 8) ==")
    const keys = persistedKeys(REFERENCE_LIBRARY_BYTES, 2)
    for (const k of keys) console.log(`${k.key.padEnd(12)} ${String(k.count).padStart(3)} x ${String(fstorBytes(k.dataBytes)).padStart(3)} B = ${String(k.count * fstorBytes(k.dataBytes)).padStart(5)} B  ${k.what}`)
    const one = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, 1))
    const two = totalBytes(keys)
    const board = totalBytes(persistedKeys(REFERENCE_LIBRARY_BYTES, BOARD_LIBRARY_BANKS))
    console.log(`board images: the library travels in the program image (${REFERENCE_LIBRARY_BYTES} B signed reference library), no dlib* key in settings; simulator/HIL images keep it in settings`)
    for (const [board_, area] of Object.entries(SETTINGS_AREA_BYTES)) {
        const budget = Math.floor(usableBytes(area) * 0.75)
        const v = (n: number) => `${n} B ${fitsWithHeadroom(n, area, 0.25) ? "fits" : "DOES NOT FIT"}`
        console.log(`${board_}: area ${area} B, usable ${usableBytes(area)} B, budget with 25 % headroom ${budget} B; board layout ${v(board)}; (settings-stored library, sim/HIL path: one bank ${v(one)}; update, 2 banks ${v(two)})`)
        const w = snapshotWear(area, board)
        console.log(
            `${board_} wear: progress cell every ${DEFAULT_SAVE_INTERVAL_MS} ms + maintenance counters (${fstorBytes(CELL_SLOT_BYTES)} B) every ${MAINT_SAVE_INTERVAL_MS} ms while infusing, ${periodicBytesPerS().toFixed(2)} B/s, board layout: ` +
                `${w.erasesPerYear === Infinity ? "no free space" : Math.round(w.erasesPerYear) + " erases per page per year -> " + w.years.toFixed(2) + " years to " + FLASH_ENDURANCE_CYCLES + " cycles"} (target >= 10 years)`
        )
    }
}

/** The chosen control period against the measured counts, per chip at both ends of the estimate:
 *  CPU share of the steady tick, of the admitted remote packets (one per ADMIT_SPACING_MS under a
 *  flood) and headroom = 1 / share (target >= 2x at the RP2040 upper estimate). */
function periodReport(counts: Record<string, number>, nsPerOpHost: number) {
    console.log(`\n== control period ${CONTROL_PERIOD_MS} ms (CONTROL_PERIOD_MS), remote admission one HMAC per ${ADMIT_PERIODS} periods (${ADMIT_SPACING_MS} ms) ==`)
    const steady = counts.steady5
    if (steady === undefined) {
        console.log("(needs the steady5 probe; run without --only or include steady5)")
        return
    }
    const worst = Math.max(counts.door ?? 0, counts.occl ?? 0, counts.backoff ?? 0)
    const packet = counts.packet
    for (const c of CHIPS) {
        for (const [end, nsPerOp] of [
            ["fast", ((nsPerOpHost / 2) * HOST_COREMARK) / c.coremark[1]],
            ["slow", ((nsPerOpHost / 1.5) * HOST_COREMARK) / c.coremark[0]],
        ] as [string, number][]) {
            const tickMs = (steady * nsPerOp) / 1e6
            const tickShare = tickMs / CONTROL_PERIOD_MS
            let line = `${c.name.split(" ")[0].padEnd(9)} ${end} end: steady tick ${tickMs.toFixed(1)} ms = ${(100 * tickShare).toFixed(0)} % of the period, headroom ${(1 / tickShare).toFixed(1)}x`
            if (worst > 0) line += `; worst tick ${((worst * nsPerOp) / 1e6).toFixed(1)} ms (${((worst * nsPerOp) / 1e6 / CONTROL_PERIOD_MS).toFixed(2)} periods)`
            if (counts.panelRun !== undefined) {
                // Worst case for the panel: a key held steps the model every UI_TICK_MS (otherwise once
                // a second, src/firmware/panel.ts).
                const share = tickShare + (counts.panelRun * nsPerOp) / 1e6 / UI_TICK_MS
                line += `; with a panel step every ${UI_TICK_MS} ms (a key held) ${(100 * share).toFixed(0)} % busy, headroom ${(1 / share).toFixed(1)}x`
            }
            if (packet !== undefined) {
                const share = tickShare + (packet * nsPerOp) / 1e6 / ADMIT_SPACING_MS
                line += `; under a packet flood ${(100 * share).toFixed(0)} % busy, headroom ${(1 / share).toFixed(1)}x`
                if (c.name.startsWith("RP2040") && end === "slow") line += share <= 0.5 ? " (>= 2x: met)" : " (>= 2x: NOT MET)"
            }
            console.log(line)
        }
    }
}

/** Writes the board library module into `root` with the sample library signed by a throwaway key
 *  (program space is measured with a real library's data in the image); returns its size. */
function embedReferenceLibrary(root: string): number {
    const r = compileFile(join(REPO, "docs/sample-drug-library.json"))
    if (r.errors.length > 0) throw new Error("sample library does not compile")
    const signed = sign(Buffer.from(newKeyHex(), "hex"), r.bytes!)
    writeFileSync(join(root, BOARD_LIBRARY_MODULE), boardLibraryModule(signed, "tools/benchDevice.ts (throwaway key, size only)"))
    return signed.length
}

function sizeReport(root: string) {
    console.log(`\n== bytecode size per entry vs program space ==`)
    // Never over the worktree's own (tracked) module: only in the private copy.
    if (resolve(root) === REPO) throw new Error("--root must not be the repository (the board library module would be overwritten)")
    const libBytes = embedReferenceLibrary(root)
    for (const e of ["src/entries/sim.ts", ...CHIPS.map(c => c.entry), "src/entries/hil.ts"]) {
        try {
            execFileSync("npx", ["devs", "build", e], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
            const size = statSync(join(root, ".devicescript/bin/bytecode.devs")).size
            const chip = CHIPS.find(c => c.entry === e)
            const budget = chip ? ` of ${chip.programKb} KB (${((100 * size) / (chip.programKb * 1024)).toFixed(0)} %), incl. the ${libBytes} B signed library as data` : ""
            console.log(`${e.padEnd(24)} ${size} B = ${(size / 1024).toFixed(1)} KB${budget}`)
        } catch (err) {
            console.log(`${e.padEnd(24)} build failed: ${(err as Error).message.split("\n")[0]}`)
        }
    }
}

async function main() {
    settingsReport()
    if (process.argv.includes("--settings-only")) return
    const root = process.argv.includes("--root") ? process.argv[process.argv.indexOf("--root") + 1] : makeRoot()
    if (process.argv.includes("--sizes-only")) return sizeReport(root)
    const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1].split(",") : null
    const resolution = process.argv.includes("--res") ? Number(process.argv[process.argv.indexOf("--res") + 1]) : 40
    console.log(`== VM opcodes (ruler: ${MAX_STEPS} opcodes per fiber turn; probes in ${root}) ==`)
    // About 13 opcodes per iteration: the 131,072 ruler holds about 10,000 (bracketed to save probes).
    const k0 = process.argv.includes("--k0") ? Number(process.argv[process.argv.indexOf("--k0") + 1]) : await bisect(root, "none", 8000, 10087, 8)
    const perSpin = MAX_STEPS / k0
    console.log(`calibration: ${k0} spin iterations fill a turn -> ${perSpin.toFixed(3)} opcodes per iteration`)
    const scenarios: [string, string, number][] = [
        ["steady5", "steady-state tick at 1 mL/h (mean of 5 consecutive ticks)", 5],
        ["monitor5", "  of which the safety check (monitor.check, mean of 5)", 5],
        ["pump5", "  of which the pump's planning (pump.update, mean of 5)", 5],
        ["quiet4", "quiet tick: no once-a-second pass (mean of 4)", 4],
        ["steady1s", "steady-state tick with the once-a-second detectors", 1],
        ["door", "worst case: door opens (DOOR_OPEN raised, logged, pump stopped)", 1],
        ["occl", "worst case: OCCL_DOWN raised and back-off started", 1],
        ["backoff", "back-off tick (reverse steps planned)", 1],
        ["packet", "one forged 233-byte remote frame (convert, parse, HMAC, compare)", 1],
        ["panelRun", "front-panel turn on the running screen (status, render, compare)", 1],
    ]
    const counts: Record<string, number> = {}
    for (const [id, label, n] of scenarios) {
        if (only && !only.includes(id)) continue
        // --span N: the measured work is known to cost under N spin iterations (13 opcodes each):
        // bisect [k0 - N, k0] instead of [0, k0] (fewer probes).
        const span = process.argv.includes("--span") ? Number(process.argv[process.argv.indexOf("--span") + 1]) : k0
        const k = await bisect(root, id, Math.max(0, k0 - span), k0, resolution)
        // k < resolution: even the shortest spin may not fit, so the count is only a lower bound.
        const bound = k < resolution && !(await probe(root, id, 0))
        const ops = ((k0 - k) * perSpin) / n
        counts[id] = ops
        console.log(`${label.padEnd(72)} ${bound ? ">=" : "  "}${Math.round(ops).toString().padStart(7)} opcodes (±${Math.ceil((resolution * perSpin) / n)})`)
    }
    if (!only || only.includes("heap")) {
        // Live heap: GC stress (--test) collects at every allocation, so the largest ballast that
        // still runs bounds (capacity - live peak) exactly; the difference to an idle program is the
        // scenario's own high-water mark. The runtime exposes no heap statistics to TypeScript.
        const free0 = await bisect(root, "none", 0, 70000, 256, true)
        const freeS = await bisect(root, "steady5", 0, free0, 256, true)
        console.log(
            `heap: idle program leaves ${(free0 / 1024).toFixed(1)} KB for a ballast buffer; pump + monitor + 64-record log ticking at steady state ` +
                `use ${((free0 - freeS) / 1024).toFixed(1)} KB more (±0.25 KB; the 64 KB VM heap, firmware app not included)`
        )
    }
    console.log(`\n== time per chip (estimate) ==`)
    console.log(
        `Assumptions: VM time scales with CoreMark; this host ~${HOST_COREMARK}; the VM in WASM on the host runs 1.5-2x slower than native;\n` +
            `host VM cost per opcode measured by the issue: a 150 µs tick of ~5,300 opcodes (~28 ns/opcode, GC stress off).\n` +
            `So per opcode on a chip: 28 ns / 1.5..2 (native) * ${HOST_COREMARK}/CoreMark. Replace with the board's own TICK line (boardStats).`
    )
    const nsPerOpHost = 150000 / 5300
    for (const c of CHIPS) {
        const lo = ((nsPerOpHost / 2) * HOST_COREMARK) / c.coremark[1]
        const hi = ((nsPerOpHost / 1.5) * HOST_COREMARK) / c.coremark[0]
        const parts = Object.entries(counts).map(([id, ops]) => `${id} ${((ops * lo) / 1e6).toFixed(1)}-${((ops * hi) / 1e6).toFixed(1)} ms`)
        console.log(`${c.name}: ${lo.toFixed(0)}-${hi.toFixed(0)} ns/opcode; ${parts.join("; ")}`)
    }
    periodReport(counts, nsPerOpHost)
    if (!only || only.includes("chip")) await chipReport()
    sizeReport(root)
}

/** The whole HIL image at the RP2040 slow-end estimate on the vclock backend: what the VM does
 *  per virtual second (every task, not one tick), in counted WASM instructions. */
async function chipReport() {
    const { loadScenario } = await import("../hil-tests/runner/scenario")
    const { buildImage } = await import("../hil-tests/runner/vclock/build")
    const { runVclockScenario } = await import("../hil-tests/runner/vclock/backend")
    const vc = await import("../hil-tests/runner/vclock/chip")
    const chip = vc.CHIPS.rp2040
    console.log(`\n== HIL image at the RP2040 slow-end estimate (vclock, counted WASM instructions) ==`)
    console.log(
        `Assumptions: ${vc.HOST_NS_PER_WASM_INSTRUCTION} ns of this host per WASM instruction (calibrated, hil-tests/runner/vclock/chip.ts) x ${chip.factor} (${chip.source});\n` +
            `the rig's own work (${vc.RIG_FILES.join(", ")}) sampled every ${vc.RIG_SAMPLE_INSTRUCTIONS} instructions and not charged.`
    )
    const scs = ["normal-25mlh", "door-open", "occlusion-down-25mlh"].map(n => loadScenario(join(REPO, "hil-tests/scenarios", n + ".json")))
    const image = await buildImage(scs, () => undefined)
    for (const sc of scs) {
        const r = await runVclockScenario(sc, { bytecode: image.bytecode, deviceId: image.deviceIdFor(sc.program)!, chipFactor: chip.factor, chipName: chip.name, rigFunctions: vc.rigFunctionsOf(image.functions), log: () => undefined })
        const busy = r.vm.chargedMs / 1000 / r.virtualS
        console.log(
            `${sc.name.padEnd(22)} ${r.pass ? "pass" : "FAIL"}: ${(r.vm.instructions / r.virtualS / 1e6).toFixed(1)} M instructions per virtual s, ` +
                `${((100 * r.vm.rigInstructions) / r.vm.instructions).toFixed(0)} % rig; busy ${(100 * r.runBusy).toFixed(0)} % once running ` +
                `(${(1 / r.runBusy).toFixed(2)}x headroom; ${(100 * busy).toFixed(0)} % with boot); longest turn after boot ${r.maxRunSliceChipMs.toFixed(0)} ms`
        )
    }
}
await main()
