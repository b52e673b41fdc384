// Instruction metering for the DeviceScript WASM VM: a deterministic, host-independent measure of
// how much work a VM slice did, for chip mode (vmNode.ts). The module is rewritten so that every
// straight-line run of instructions first adds its length to a counter, an exported mutable i64
// global: after a slice, the counter's increase is the number of WASM instructions the slice
// executed (native runtime, Jacdac stack, GC and the bytecode interpreter alike), counted as the
// WebAssembly semantics execute them, whatever the host or its load.
//
// The rewrite (standard "gas metering"): a run starts at a function's entry and after `block`,
// `loop`, `if`, `else`, `end`, and every branch, `return` or `unreachable`; it is charged in full
// on entry, so a run left by a trap inside it is still charged whole (the VM does not trap). Only
// the code, global and export sections change; function, global and type indices stay valid
// because the new global is appended after the existing ones and nothing is imported.
// The decoder knows the MVP instruction set plus the sign-extension, saturating-truncation,
// bulk-memory and reference-type instructions the emscripten build uses; any other opcode fails
// with its offset, so a changed VM cannot be metered wrongly in silence.

/** Name of the exported counter global. */
export const METER_EXPORT = "__meter_instructions"
/** With sampling: the exported threshold global; when the counter reaches it, the run calls the
 *  sampling import (see MeterOptions). */
export const SAMPLE_AT_EXPORT = "__meter_sample_at"

export interface MeterOptions {
    /** Name of an imported function without parameters (its result, if any, is dropped) that a
     *  run calls on entry when the counter has reached SAMPLE_AT_EXPORT: the host sees the VM
     *  every N instructions (a deterministic sampling profiler). Unsigned compare: the host keeps
     *  the threshold ahead of the counter. */
    sampleVia?: string
}

class Reader {
    p: number
    constructor(
        readonly b: Uint8Array,
        p = 0,
    ) {
        this.p = p
    }
    byte(): number {
        if (this.p >= this.b.length) throw new Error("wasm meter: read past the end at " + this.p)
        return this.b[this.p++]
    }
    u32(): number {
        let r = 0
        let s = 0
        for (;;) {
            const x = this.byte()
            r += (x & 0x7f) * 2 ** s
            if (!(x & 0x80)) return r
            s += 7
        }
    }
    /** Skips a signed LEB128 (i32, i64 or s33). */
    sleb(): void {
        while (this.byte() & 0x80) {
            /* continuation bytes */
        }
    }
}

function uleb(n: number): number[] {
    const out: number[] = []
    do {
        let x = n % 128
        n = Math.floor(n / 128)
        if (n > 0) x |= 0x80
        out.push(x)
    } while (n > 0)
    return out
}

function sleb32(n: number): number[] {
    const out: number[] = []
    n |= 0
    for (;;) {
        const x = n & 0x7f
        n >>= 7
        const done = (n === 0 && !(x & 0x40)) || (n === -1 && x & 0x40)
        out.push(done ? x : x | 0x80)
        if (done) return out
    }
}

const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f])

function blockType(r: Reader) {
    const t = r.b[r.p]
    if (t === 0x40 || VALTYPES.has(t)) r.p++
    else r.sleb() // a type index (s33)
}

/** What an instruction does to the run being counted. */
const enum Kind {
    /** Ordinary: the run goes on. */
    Plain,
    /** `block`, `loop`, `if`, `else`, `end`, a branch, `return`, `unreachable`: the run ends after it. */
    EndsRun,
}

/** Decodes one instruction at r.p (its immediates included) and says how it ends a run. */
function skipInstruction(r: Reader): Kind {
    const at = r.p
    const op = r.byte()
    if (op === 0x02 || op === 0x03 || op === 0x04) {
        blockType(r)
        return Kind.EndsRun
    }
    if (op === 0x00 || op === 0x05 || op === 0x0b || op === 0x0f) return Kind.EndsRun
    if (op === 0x0c || op === 0x0d) {
        r.u32()
        return Kind.EndsRun
    }
    if (op === 0x0e) {
        const n = r.u32()
        for (let i = 0; i <= n; i++) r.u32()
        return Kind.EndsRun
    }
    if (op === 0x01 || op === 0x1a || op === 0x1b || op === 0xd1) return Kind.Plain
    if (op === 0x10 || op === 0xd2) {
        r.u32()
        return Kind.Plain
    }
    if (op === 0x11) {
        r.u32()
        r.u32()
        return Kind.Plain
    }
    if (op === 0x1c) {
        const n = r.u32()
        r.p += n // one byte a value type
        return Kind.Plain
    }
    if (op >= 0x20 && op <= 0x26) {
        r.u32()
        return Kind.Plain
    }
    if (op >= 0x28 && op <= 0x3e) {
        r.u32()
        r.u32()
        return Kind.Plain
    }
    if (op === 0x3f || op === 0x40 || op === 0xd0) {
        r.byte()
        return Kind.Plain
    }
    if (op === 0x41 || op === 0x42) {
        r.sleb()
        return Kind.Plain
    }
    if (op === 0x43) {
        r.p += 4
        return Kind.Plain
    }
    if (op === 0x44) {
        r.p += 8
        return Kind.Plain
    }
    if (op >= 0x45 && op <= 0xc4) return Kind.Plain
    if (op === 0xfc) {
        const sub = r.u32()
        if (sub <= 7) return Kind.Plain
        // memory.init d m | data.drop d | memory.copy m m | memory.fill m | table.init e t |
        // elem.drop e | table.copy t t | table.grow t | table.size t | table.fill t
        const imms = [2, 1, 2, 1, 2, 1, 2, 1, 1, 1][sub - 8]
        if (imms === undefined) throw new Error("wasm meter: unknown 0xfc " + sub + " at " + at)
        for (let i = 0; i < imms; i++) r.u32()
        return Kind.Plain
    }
    if (op === 0xfd) {
        const sub = r.u32()
        if (sub <= 11 || sub === 92 || sub === 93) {
            r.u32()
            r.u32()
        } else if (sub === 12 || sub === 13) r.p += 16
        else if (sub >= 21 && sub <= 34) r.p += 1
        else if (sub >= 84 && sub <= 91) {
            r.u32()
            r.u32()
            r.p += 1
        }
        return Kind.Plain
    }
    throw new Error("wasm meter: unknown opcode 0x" + op.toString(16) + " at byte " + at)
}

interface Sampler {
    atGlobal: number
    func: number
    dropsResult: boolean
}

/** `global.get g; i64.const n; i64.add; global.set g`: adds n to the counter; with a sampler,
 *  then `global.get g; global.get at; i64.ge_u; if; call f; [drop]; end`. */
function charge(global: number, n: number, sampler?: Sampler): number[] {
    const add = [0x23, ...uleb(global), 0x42, ...sleb32(n), 0x7c, 0x24, ...uleb(global)]
    if (!sampler) return add
    const call = [0x10, ...uleb(sampler.func), ...(sampler.dropsResult ? [0x1a] : [])]
    return [...add, 0x23, ...uleb(global), 0x23, ...uleb(sampler.atGlobal), 0x5a, 0x04, 0x40, ...call, 0x0b]
}

/** One function body (without its size prefix), metered. */
function meterBody(body: Uint8Array, global: number, sampler?: Sampler): number[] {
    const r = new Reader(body)
    const groups = r.u32()
    for (let i = 0; i < groups; i++) {
        r.u32()
        r.byte()
    }
    const out: number[] = Array.from(body.subarray(0, r.p))
    // Runs: [start, end) byte ranges with their instruction counts.
    let runStart = r.p
    let count = 0
    while (r.p < body.length) {
        const kind = skipInstruction(r)
        count++
        if (kind === Kind.EndsRun || r.p === body.length) {
            out.push(...charge(global, count, sampler))
            for (let i = runStart; i < r.p; i++) out.push(body[i])
            runStart = r.p
            count = 0
        }
    }
    return out
}

interface Section {
    id: number
    body: Uint8Array
}

function sections(wasm: Uint8Array): Section[] {
    if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d || wasm[4] !== 1) throw new Error("wasm meter: not a version-1 WebAssembly module")
    const r = new Reader(wasm, 8)
    const out: Section[] = []
    while (r.p < wasm.length) {
        const id = r.byte()
        const n = r.u32()
        out.push({ id, body: wasm.subarray(r.p, r.p + n) })
        r.p += n
    }
    return out
}

function vecCount(body: Uint8Array): { n: number; rest: Uint8Array } {
    const r = new Reader(body)
    const n = r.u32()
    return { n, rest: body.subarray(r.p) }
}

/** The module with every function metered and the counter exported as METER_EXPORT. */
export function meterModule(wasm: Uint8Array, opts: MeterOptions = {}): Uint8Array<ArrayBuffer> {
    const secs = sections(wasm)
    const imports = secs.find(s => s.id === 2)
    // Function types (params, results) for the sampling import's signature.
    const types: { params: number; results: number }[] = []
    const ts = secs.find(s => s.id === 1)
    if (ts) {
        const r = new Reader(ts.body)
        const n = r.u32()
        for (let i = 0; i < n; i++) {
            if (r.byte() !== 0x60) throw new Error("wasm meter: unknown type form")
            const params = r.u32()
            r.p += params
            const results = r.u32()
            r.p += results
            types.push({ params, results })
        }
    }
    let funcImports = 0
    let sampleFunc = -1
    let sampleType: { params: number; results: number } | undefined
    if (imports) {
        // An imported global would come first in the index space; this rewrite appends one.
        const r = new Reader(imports.body)
        const n = r.u32()
        for (let i = 0; i < n; i++) {
            const moduleLen = r.u32()
            r.p += moduleLen
            const fieldLen = r.u32()
            const field = new TextDecoder().decode(imports.body.subarray(r.p, r.p + fieldLen))
            r.p += fieldLen
            const kind = r.byte()
            if (kind === 0) {
                const t = r.u32()
                if (field === opts.sampleVia) {
                    sampleFunc = funcImports
                    sampleType = types[t]
                }
                funcImports++
            }
            else if (kind === 1) {
                r.byte()
                const f = r.byte()
                r.u32()
                if (f & 1) r.u32()
            } else if (kind === 2) {
                const f = r.byte()
                r.u32()
                if (f & 1) r.u32()
            } else throw new Error("wasm meter: the module imports a global or an unknown kind " + kind)
        }
    }
    const g = secs.find(s => s.id === 6)
    const e = secs.find(s => s.id === 7)
    // The VM has both; a module without one would need the new section placed by the section order.
    if (!g || !e) throw new Error("wasm meter: the module has no global or no export section")
    const globals = vecCount(g.body)
    const meterGlobal = globals.n
    let sampler: Sampler | undefined
    if (opts.sampleVia !== undefined) {
        if (sampleFunc < 0 || !sampleType || sampleType.params !== 0 || sampleType.results > 1) throw new Error("wasm meter: no imported function " + opts.sampleVia + " without parameters")
        sampler = { atGlobal: meterGlobal + 1, func: sampleFunc, dropsResult: sampleType.results === 1 }
    }
    // (mut i64) = 0, and with a sampler its threshold (mut i64) = 2^64 - 1 (no sample yet).
    const newGlobals = [...uleb(globals.n + (sampler ? 2 : 1)), ...globals.rest, 0x7e, 0x01, 0x42, 0x00, 0x0b, ...(sampler ? [0x7e, 0x01, 0x42, 0x7f, 0x0b] : [])]
    const exps = vecCount(e.body)
    const name = Array.from(new TextEncoder().encode(METER_EXPORT))
    const atName = Array.from(new TextEncoder().encode(SAMPLE_AT_EXPORT))
    const newExports = [...uleb(exps.n + (sampler ? 2 : 1)), ...exps.rest, ...uleb(name.length), ...name, 0x03, ...uleb(meterGlobal), ...(sampler ? [...uleb(atName.length), ...atName, 0x03, ...uleb(sampler.atGlobal)] : [])]
    const code = secs.find(s => s.id === 10)
    if (!code) throw new Error("wasm meter: no code section")
    const cr = new Reader(code.body)
    const nfun = cr.u32()
    const newCode: number[] = [...uleb(nfun)]
    for (let i = 0; i < nfun; i++) {
        const size = cr.u32()
        let body: number[]
        try {
            body = meterBody(code.body.subarray(cr.p, cr.p + size), meterGlobal, sampler)
        } catch (err) {
            throw new Error((err as Error).message + " (function body " + i + ")")
        }
        cr.p += size
        newCode.push(...uleb(body.length))
        for (const x of body) newCode.push(x)
    }
    const out: number[] = Array.from(wasm.subarray(0, 8))
    const put = (id: number, body: ArrayLike<number>) => {
        out.push(id, ...uleb(body.length))
        for (let i = 0; i < body.length; i++) out.push(body[i])
    }
    for (const s of secs) {
        if (s.id === 6) put(6, newGlobals)
        else if (s.id === 7) put(7, newExports)
        else if (s.id === 10) put(10, newCode)
        else put(s.id, s.body)
    }
    return new Uint8Array(out)
}
