import { existsSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { bytesPerSource, FUNCTION_END_LIMIT, HEADER_BYTES, measureImage } from "../../tools/devsImage"

/** A synthetic image: header, `sizes.length` function descriptors, then the code back to back,
 *  laid out as the DeviceScript compiler writes it (section 0 descriptors, section 1 code). */
function image(sizes: number[], totalCodeBytes = sizes.reduce((a, b) => a + b, 0)): Uint8Array {
    const descBytes = 16 * sizes.length
    const codeStart = HEADER_BYTES + descBytes
    const b = new Uint8Array(codeStart + totalCodeBytes)
    const v = new DataView(b.buffer)
    v.setUint32(0, 0x53766544, true) // "DevS"
    v.setUint32(32, HEADER_BYTES, true) // section 0: function descriptors
    v.setUint32(36, descBytes, true)
    v.setUint32(40, codeStart, true) // section 1: function code
    v.setUint32(44, totalCodeBytes, true)
    let at = codeStart
    sizes.forEach((n, i) => {
        v.setUint32(HEADER_BYTES + 16 * i, at, true)
        v.setUint32(HEADER_BYTES + 16 * i + 4, n, true)
        at += n
    })
    return b
}

describe("devs image budget (verify.c check 1051: last function must end below 0x10000)", () => {
    it("header is 32 fixed bytes plus 10 section descriptors of 8 bytes", () => {
        expect(HEADER_BYTES).toBe(112)
        expect(FUNCTION_END_LIMIT).toBe(65536)
    })

    it("end offset = 112 + 16 per function + code; margin counts the bytes still allowed", () => {
        const m = measureImage(image([100, 200, 300]))
        expect(m.functionCount).toBe(3)
        expect(m.descriptorBytes).toBe(48)
        expect(m.codeBytes).toBe(600)
        expect(m.functionsEnd).toBe(112 + 48 + 600)
        expect(m.marginBytes).toBe(65535 - 760)
    })

    it("an image ending at 0xffff has margin 0; one ending at 0x10000 is 1 byte over", () => {
        // one function: 112 + 16 + code = end
        expect(measureImage(image([65535 - 128])).marginBytes).toBe(0)
        expect(measureImage(image([65536 - 128])).marginBytes).toBe(-1)
    })

    it("refuses bytes that are not an image or whose functions do not follow each other", () => {
        const bad = image([40, 40])
        bad[0] = 0
        expect(() => measureImage(bad)).toThrow(/magic/)
        expect(() => measureImage(new Uint8Array(50))).toThrow(/shorter/)
        const gap = image([40, 40])
        new DataView(gap.buffer).setUint32(HEADER_BYTES + 16, 112 + 32 + 44, true) // second starts 4 B late
        expect(() => measureImage(gap)).toThrow(/expected/)
    })

    it("attributes function bytes to the source file that contains each function", () => {
        const dbg = {
            sources: [
                { path: "b.ts", index: 1, length: 50 },
                { path: "a.ts", index: 0, length: 100 },
            ],
            functions: [
                { location: [10], size: 20 },
                { location: [99], size: 24 },
                { location: [100], size: 40 },
                { location: [149], size: 16 },
            ],
        }
        expect(bytesPerSource(dbg)).toEqual([
            { path: "b.ts", bytes: 56 },
            { path: "a.ts", bytes: 44 },
        ])
    })

    // npm install builds the sim image (postinstall); its debug file lists every function's size
    // (descriptor included), so the header walk must agree with the compiler's own total.
    const built = ".devicescript/bin/bytecode.devs"
    it.skipIf(!existsSync(built))("the last built image: header walk agrees with the compiler's per-function sizes", () => {
        const m = measureImage(readFileSync(built))
        const dbg = JSON.parse(readFileSync(".devicescript/bin/bytecode-dbg.json", "utf8"))
        const total = dbg.functions.reduce((a: number, f: { size: number }) => a + f.size, 0)
        expect(m.functionCount).toBe(dbg.functions.length)
        expect(m.descriptorBytes + m.codeBytes).toBe(total)
        expect(m.functionsEnd).toBe(HEADER_BYTES + total)
    })
})
