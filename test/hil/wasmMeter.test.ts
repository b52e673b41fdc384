// Instruction metering of the VM (hil-tests/runner/vclock/wasmMeter.ts): counts checked against
// the WebAssembly semantics of a hand-assembled module, not against the meter's own output.

import { describe, expect, it } from "vitest"
import { METER_EXPORT, meterModule, SAMPLE_AT_EXPORT } from "../../hil-tests/runner/vclock/wasmMeter"

/** (module (type (func (param i32) (result i32))) (type (func)) (import "env" "hook" (func (type 1)))
 *  (global (mut i32) (i32.const 0)) (func (export "f") (type 0) (local.get 0) ... )
 *  f(n): loop { n = n - 1; br_if 0 (n) } end; n  — a countdown to 0. */
function countdownModule(): Uint8Array {
    const type = [0x01, 0x09, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00]
    const imp = [0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x68, 0x6f, 0x6f, 0x6b, 0x00, 0x01]
    const func = [0x03, 0x02, 0x01, 0x00]
    const glob = [0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b]
    const exp = [0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x01]
    // no locals; loop (block type empty) local.get 0, i32.const 1, i32.sub, local.tee 0, br_if 0, end; local.get 0; end
    const body = [0x00, 0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x00, 0x0b]
    const code = [0x0a, body.length + 2, 0x01, body.length, ...body]
    return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imp, ...func, ...glob, ...exp, ...code])
}

describe("WASM instruction meter", () => {
    it("counts what the semantics execute: f(n) runs loop 1 + body 5n + end 1 + local.get, end 2 = 5n + 4 instructions", () => {
        const wasm = countdownModule()
        const plain = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), { env: { hook: (): void => undefined } })
        const metered = new WebAssembly.Instance(new WebAssembly.Module(meterModule(wasm)), { env: { hook: (): void => undefined } })
        const g = metered.exports[METER_EXPORT] as WebAssembly.Global
        for (const n of [1, 7, 1000]) {
            const before = g.value as bigint
            // Same result as the unmetered module: metering changes no behaviour.
            expect((metered.exports.f as (x: number) => number)(n)).toBe((plain.exports.f as (x: number) => number)(n))
            expect(Number((g.value as bigint) - before)).toBe(5 * n + 4)
        }
    })

    it("calls the sampling import when the count reaches the threshold, at the next run's entry", () => {
        let calls = 0
        const metered = new WebAssembly.Instance(new WebAssembly.Module(meterModule(countdownModule(), { sampleVia: "hook" })), { env: { hook: () => calls++ } })
        const at = metered.exports[SAMPLE_AT_EXPORT] as WebAssembly.Global
        expect(calls).toBe(0)
        at.value = 100n // no host pushes it on: every run entry from instruction 100 on calls the hook
        ;(metered.exports.f as (x: number) => number)(100) // 504 instructions in 100 loop runs + 3
        // Runs enter at counts 1 (loop), 1 + 5k (body k = 1..100), 502 (end): from 100 on, body runs
        // k = 20..100 (their entry count 1 + 5(k-1) >= 100 ... the charge is added first: entry
        // value after charge is 1 + 5k >= 100 for k >= 20) = 81, plus the two runs after the loop.
        expect(calls).toBe(81 + 2)
    })

    it("refuses an opcode it does not know, naming it and its function", () => {
        const wasm = countdownModule()
        const bad = Uint8Array.from(wasm)
        bad[bad.length - 4] = 0x06 // `try` (exception handling) in place of the loop's `end`
        expect(() => meterModule(bad)).toThrow(/unknown opcode|function body 0/)
    })
})
