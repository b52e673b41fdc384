// Loads the DeviceScript WASM VM out of the pinned CLI bundle (@devicescript/cli 2.16.4) into this
// process, with its two host inputs that are not deterministic replaced: the clock
// (`em_time_now`, Date.now() in the CLI) and the random source (`em_jd_crypto_get_random`).
// The CLI bundle is one CommonJS file that runs the CLI when loaded, so the VM's section
// (`runtime/devicescript-vm/built/devicescript-vm.js`) is cut out of it and evaluated alone.
// Every assumption about the bundle's shape is checked (checkVmBundle) and a change fails with a
// message naming what moved, instead of a VM that silently runs on the wall clock.

import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { runInThisContext } from "node:vm"
import { setFlagsFromString } from "node:v8"
import { METER_EXPORT, meterModule, SAMPLE_AT_EXPORT } from "./wasmMeter"

const ROOT = resolve(fileURLToPath(import.meta.url), "../../../..")
export const CLI_BUNDLE = join(ROOT, "node_modules/@devicescript/cli/built/devicescript-cli.cjs")
export const PINNED_CLI_VERSION = "2.16.4"

const SECTION = "runtime/devicescript-vm/built/devicescript-vm.js"
const SECTION_START = "// " + SECTION + "\nvar require_devicescript_vm = __commonJS({\n  \"" + SECTION + "\"(exports, module2) {\n"
const SECTION_END = "\n  }\n});\n"
const WASM_DATA_URI = 'wasmBinaryFile = "data:application/octet-stream;base64,'
/** VM exports the co-simulation calls. */
export const REQUIRED_EXPORTS = [
    "_jd_em_init",
    "_jd_em_process",
    "_jd_em_frame_received",
    "_jd_em_devs_deploy",
    "_jd_em_devs_enable_gc_stress",
    "_jd_em_set_device_id_string",
    "_malloc",
    "_free",
]
/** WASM imports that are replaced: the only clock and the only entropy the VM reads. */
export const REPLACED_IMPORTS = ["em_time_now", "em_jd_crypto_get_random"]
/** Host functions of the glue the co-simulation relies on (Module.sendPacket, dmesg, flash...). */
const GLUE_MARKERS = [
    "function em_time_now() {\n          return Date.now();\n        }",
    "Module2.sendPacket(pkt);",
    "if (Module2.panicHandler)",
    "if (Module2.flashSave)",
    "if (Module2.dmesg)\n            Module2.dmesg(s);",
    'Module2["instantiateWasm"](info, receiveInstance)',
    "module2.exports = Module;",
]

/** The emscripten Module instance, with the members this runner uses. */
export interface VmModule {
    HEAPU8: Uint8Array
    _malloc(n: number): number
    _free(p: number): void
    _jd_em_init(): void
    _jd_em_process(): number
    _jd_em_frame_received(p: number): number
    _jd_em_devs_deploy(p: number, n: number): number
    _jd_em_devs_enable_gc_stress(on: number): void
    devsSetDeviceId(id: string): void
    devsDeploy(binary: Uint8Array): number
    devsGcStress(on: boolean): void
    sendPacket: (pkt: Uint8Array) => void
    dmesg: (line: string) => void
    log: (...a: unknown[]) => void
    error: (...a: unknown[]) => void
    panicHandler?: (code: number) => void
    deployHandler?: (code: number) => void
    flashLoad?: (() => Uint8Array) | null
    flashSave?: ((buf: Uint8Array) => void) | null
    /** WASM instructions executed so far, in a metered VM (createVm's `metered`). */
    instructions?: () => number
}

export interface VmHost {
    /** Current time in ms (fractional allowed): what the VM's clock reads. */
    nowMs(): number
    /** Fills `out` with the VM's "random" bytes (seeded, for determinism). */
    random(out: Uint8Array): void
}

type Factory = (moduleArg: Record<string, unknown>) => Promise<VmModule>

interface Loaded {
    factory: Factory
    wasm: WebAssembly.Module
    /** The same module with instruction metering (wasmMeter.ts), compiled on first use. */
    metered?: WebAssembly.Module
    /** Metered and sampling through em_time_now (profiler), compiled on first use. */
    sampled?: WebAssembly.Module
    wasmBytes: Uint8Array
}

let loaded: Loaded | undefined

function fail(what: string): never {
    throw new Error(
        "cannot load the DeviceScript VM from " + CLI_BUNDLE + ": " + what + ". hil-tests/runner/vclock/vmLoader.ts reads the VM out of " +
            "@devicescript/cli " + PINNED_CLI_VERSION + "; the installed bundle has a different shape (was the CLI upgraded?). " +
            "Reinstall the pinned version (npm ci) or update the loader's markers.",
    )
}

/** Cuts the VM section out of the CLI bundle text and checks its shape. */
export function extractVmSection(bundle: string): { body: string; wasmBase64: string } {
    const a = bundle.indexOf(SECTION_START)
    if (a < 0) fail("the section '" + SECTION + "' was not found")
    if (bundle.indexOf(SECTION_START, a + 1) >= 0) fail("the section '" + SECTION + "' appears twice")
    const bodyStart = a + SECTION_START.length
    const b = bundle.indexOf(SECTION_END, bodyStart)
    if (b < 0) fail("the end of the section '" + SECTION + "' was not found")
    const body = bundle.slice(bodyStart, b)
    for (const m of GLUE_MARKERS) if (body.indexOf(m) < 0) fail("the VM glue no longer contains " + JSON.stringify(m))
    for (const e of REQUIRED_EXPORTS) if (body.indexOf('Module2["' + e + '"]') < 0) fail("the VM no longer exports " + e)
    const w = body.indexOf(WASM_DATA_URI)
    if (w < 0) fail("the embedded WASM binary (a base64 data URI) was not found")
    const wEnd = body.indexOf('"', w + WASM_DATA_URI.length)
    return { body, wasmBase64: body.slice(w + WASM_DATA_URI.length, wEnd) }
}

function installedCliVersion(): string {
    const pkg = JSON.parse(readFileSync(join(dirname(CLI_BUNDLE), "../package.json"), "utf8")) as { version: string }
    return pkg.version
}

/** Loads (once) and checks the VM: section, glue, exports, WASM imports. Throws a clear error. */
export function checkVmBundle(): Loaded {
    if (loaded) return loaded
    const version = installedCliVersion()
    if (version !== PINNED_CLI_VERSION) fail("installed version is " + version + ", expected " + PINNED_CLI_VERSION)
    const { body, wasmBase64 } = extractVmSection(readFileSync(CLI_BUNDLE, "utf8"))
    // Optimise the whole VM up front (TurboFan, ~50 ms for its 260 KB) instead of starting on
    // V8's baseline tier and re-compiling hot functions in background threads while it runs:
    // steady speed from the first slice, which chip mode's per-slice timing needs.
    setFlagsFromString("--no-liftoff")
    // Compile every function now, not on its first call: a lazy compile inside a slice would be
    // charged as chip time in chip mode.
    setFlagsFromString("--no-wasm-lazy-compilation")
    const wasm = new WebAssembly.Module(Buffer.from(wasmBase64, "base64"))
    const imports = WebAssembly.Module.imports(wasm).map(i => i.module + "." + i.name)
    for (const name of REPLACED_IMPORTS) {
        if (imports.indexOf("env." + name) < 0) fail("the WASM no longer imports env." + name)
    }
    // Any other import that could read a clock or entropy would make the virtual clock a lie.
    for (const i of imports) {
        if (/time|clock|random|date/i.test(i) && REPLACED_IMPORTS.indexOf(i.replace(/^env\./, "")) < 0) fail("the WASM imports " + i + ", a clock or entropy source this loader does not replace")
    }
    const wrapped = "(function (exports, module2, require, __filename, __dirname) {\n" + body + "\n})"
    const fn = runInThisContext(wrapped, { filename: CLI_BUNDLE + "#" + SECTION }) as (e: object, m: { exports: unknown }, r: NodeRequire, f: string, d: string) => void
    const mod: { exports: unknown } = { exports: {} }
    fn(mod.exports as object, mod, createRequire(CLI_BUNDLE), CLI_BUNDLE, dirname(CLI_BUNDLE))
    if (typeof mod.exports !== "function") fail("the section does not export the module factory")
    loaded = { factory: mod.exports as Factory, wasm, wasmBytes: Buffer.from(wasmBase64, "base64") }
    return loaded
}

/** Every `everyInstructions` WASM instructions, `onSample` sees the VM (deterministic profiler). */
export interface VmSampler {
    everyInstructions: number
    onSample(vm: VmModule): void
}

/** A fresh VM instance (a power-on): its own memory, the host's clock and random source.
 *  `metered`: the VM counts the WASM instructions it executes (vm.instructions()). */
export async function createVm(host: VmHost, metered = false, sampler?: VmSampler): Promise<VmModule> {
    const l = checkVmBundle()
    const { factory } = l
    if (sampler) l.sampled ??= new WebAssembly.Module(meterModule(l.wasmBytes, { sampleVia: "em_time_now" }))
    else if (metered) l.metered ??= new WebAssembly.Module(meterModule(l.wasmBytes))
    const wasm = sampler ? l.sampled! : metered ? l.metered! : l.wasm
    let vm: VmModule | undefined
    let counter: WebAssembly.Global | undefined
    let sampleAt: WebAssembly.Global | undefined
    vm = await factory({
        instantiateWasm(info: { env: Record<string, unknown> }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => unknown) {
            const env = info.env
            for (const name of REPLACED_IMPORTS) if (typeof env[name] !== "function") fail("the glue no longer provides " + name)
            env.em_time_now = () => {
                // The sampling hook calls em_time_now when the counter reaches the threshold; the
                // VM's own clock reads come with the counter below it.
                if (sampleAt && counter && vm && (counter.value as bigint) >= (sampleAt.value as bigint)) {
                    sampler!.onSample(vm)
                    sampleAt.value = (counter.value as bigint) + BigInt(sampler!.everyInstructions)
                }
                return host.nowMs()
            }
            env.em_jd_crypto_get_random = (ptr: number, size: number) => {
                const buf = new Uint8Array(size)
                host.random(buf)
                // HEAPU8 may be replaced when memory grows: read it from the instance each call.
                if (!vm) throw new Error("VM asked for random bytes before it was ready")
                vm.HEAPU8.set(buf, ptr)
            }
            const instance = new WebAssembly.Instance(wasm, info as unknown as WebAssembly.Imports)
            if (metered || sampler) counter = instance.exports[METER_EXPORT] as WebAssembly.Global
            if (sampler) {
                sampleAt = instance.exports[SAMPLE_AT_EXPORT] as WebAssembly.Global
                sampleAt.value = BigInt(sampler.everyInstructions)
            }
            return receive(instance, wasm)
        },
        print: (): void => undefined,
        printErr: (): void => undefined,
    })
    if (counter) {
        const c = counter
        vm.instructions = () => Number(c.value as bigint)
    }
    return vm
}
