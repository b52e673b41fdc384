// Chip-time factors: how many times longer a VM slice takes on a chip than the same slice in this
// host's WASM VM. A slice's host time is not measured (that varies with load and is not
// deterministic): it is the slice's WASM instruction count (wasmMeter.ts) x
// HOST_NS_PER_WASM_INSTRUCTION, calibrated once on this host. An ESTIMATE until a board measures it
// (issue 16, "device budget"): CoreMark of this host about 45,000; RP2040 about 150-240;
// ESP32-S3 about 500-650; the WASM VM runs 1.5-2x slower than the native VM on the same host, so
// chip time = host WASM time / (1.5..2) x (45,000 / chip CoreMark). The named chips use the SLOW
// end of each range (a deadline met there is met across the range); the fast end is listed too.

export interface Chip {
    name: string
    /** Slow end of the estimate: the factor the runner uses for `--chip <name>`. */
    factor: number
    /** Fast end of the estimate. */
    fastFactor: number
    source: string
}

const HOST_COREMARK = 45000

/** Host time of one WASM instruction of the VM, UNMETERED, on the host whose CoreMark is above:
 *  the VM's wall time over a run divided by the instructions the metered VM counts for the same
 *  (deterministic) run. Measured on 2026-11-30 (see docs/hil-rig.md, "Chip speed"). */
export const HOST_NS_PER_WASM_INSTRUCTION = 0.087

/** Source files of the HIL image whose work is the rig's, not the pump's: the TMC5160's register
 *  model (on a board, the chip's silicon runs the ramp) and the HIL reporting lines (a board
 *  prints none). Instructions run while one of their functions is on the call chain are not
 *  charged as chip time; the driver's side of every SPI datagram (src/hal/tmc5160.ts) is. */
export const RIG_FILES = ["src/hal/tmc5160Model.ts", "src/hal/hilReport.ts", "src/firmware/hilStatus.ts"]

/** Sampling period of the rig accounting (WASM instructions): a slice's rig share is known to
 *  within this much (0.28 ms of RP2040 time at the slow end). */
export const RIG_SAMPLE_INSTRUCTIONS = 16384
const WASM_SLOWDOWN = [1.5, 2]

function chip(name: string, coremark: [number, number]): Chip {
    const slow = HOST_COREMARK / coremark[0] / WASM_SLOWDOWN[0]
    const fast = HOST_COREMARK / coremark[1] / WASM_SLOWDOWN[1]
    return {
        name,
        factor: Math.round(slow),
        fastFactor: Math.round(fast),
        source:
            "estimate (issue 16): host CoreMark ~" + HOST_COREMARK + ", " + name + " CoreMark " + coremark[0] + "-" + coremark[1] +
            ", WASM " + WASM_SLOWDOWN[0] + "-" + WASM_SLOWDOWN[1] + "x slower than native; slow end used; no board has measured it",
    }
}

export const CHIPS: Record<string, Chip> = {
    rp2040: chip("rp2040", [150, 240]),
    esp32s3: chip("esp32s3", [500, 650]),
}

/** `--chip <name>` or `--chip-factor <x>`: the factor and a label for tables. */
export function resolveChip(name?: string, factor?: string): { factor: number; label: string } | undefined {
    if (factor !== undefined) {
        const f = Number(factor)
        if (!(f > 0)) throw new Error("--chip-factor must be a positive number")
        return { factor: f, label: "x" + f }
    }
    if (name === undefined) return undefined
    // "x10" or "10": an explicit factor where a chip name is expected.
    const m = /^x?(\d+(\.\d+)?)$/.exec(name)
    if (m) return resolveChip(undefined, m[1])
    const c = CHIPS[name]
    if (!c) throw new Error("--chip must be one of " + Object.keys(CHIPS).join(", ") + " or a factor such as x10")
    return { factor: c.factor, label: c.name }
}

/** Function indices of the image's rig functions (RIG_FILES). */
export function rigFunctionsOf(functions: { file: string }[]): Set<number> {
    const out = new Set<number>()
    functions.forEach((f, i) => {
        if (RIG_FILES.indexOf(f.file) >= 0) out.add(i)
    })
    return out
}
