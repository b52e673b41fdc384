import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { EventLog } from "../../src/core/eventLog"
import { decodeEntry, parseLibrary } from "../../src/core/druglib/parse"
import { LibraryStore } from "../../src/core/druglib/store"
import { compileFile } from "../../tools/druglib/compile"
import { compileTest } from "./fixture"

const sample = compileFile(new URL("../../docs/sample-drug-library.json", import.meta.url).pathname)
const good = compileTest().bytes

/** A verifier that accepts everything, so hostile bytes reach the parser itself. */
const acceptAll = { hasKey: () => true, verify: () => true }
const MAC = new Uint8Array(32)

function safeParse(b: Uint8Array) {
    let threw: unknown = null
    let r: ReturnType<typeof parseLibrary> | null = null
    try {
        r = parseLibrary(b)
    } catch (e) {
        threw = e
    }
    return { r, threw }
}

describe("compact library parser", () => {
    it("the sample library compiles: >= 25 drugs over 4 care areas, and parses back", () => {
        expect(sample.errors).toEqual([])
        const lib = sample.library!
        expect(lib.careAreas.map(a => a.name)).toEqual(["ICU", "Med-Surg", "Pediatrics", "Oncology"])
        expect(new Set(lib.careAreas.flatMap(a => a.drugs)).size).toBeGreaterThanOrEqual(25)
        for (const a of lib.careAreas) for (let i = 0; i < a.drugs.length; i++) expect(decodeEntry(lib, a, i)!.drug).toBe(a.drugs[i])
    })

    it("every truncation of a valid library is refused with a clear error, never a throw", () => {
        const b = sample.bytes!
        for (let n = 0; n < b.length; n++) {
            const { r, threw } = safeParse(b.subarray(0, n))
            expect(threw).toBe(null)
            expect(r!.ok).toBe(false)
            expect(r!.error).toMatch(/^offset \d+ \(/)
        }
    })

    it("a trailing byte is refused", () => {
        const r = parseLibrary(Buffer.concat([good, Buffer.from([0])]))
        expect(r.ok).toBe(false)
        expect(r.error).toContain("truncated or padded")
    })

    it("property: random bytes never throw and are refused", () => {
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 3000 }), b => {
                const { r, threw } = safeParse(b)
                return threw === null && r!.ok === false && r!.error.length > 0
            }),
            { numRuns: 2000 }
        )
    })

    it("property: random bytes behind a valid header never throw", () => {
        const head = good.subarray(0, 17)
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 600 }), tail => {
                const b = Buffer.concat([head, tail])
                b.writeUInt32LE(b.length, 13) // make the length field agree so parsing goes deep
                const { r, threw } = safeParse(b)
                return threw === null && r !== null && (r.ok || r.error.length > 0)
            }),
            { numRuns: 2000 }
        )
    })

    it("property: mutated valid libraries never throw; what parses still decodes entry by entry", () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), muts => {
                const b = Buffer.from(good)
                for (const [i, v] of muts) b[i] = v
                const { r, threw } = safeParse(b)
                if (threw !== null) return false
                if (!r!.ok) return r!.error.length > 0
                const lib = r!.library
                return lib.careAreas.every(a => a.drugs.every((d, i) => decodeEntry(lib, a, i)?.drug === d))
            }),
            { numRuns: 3000 }
        )
    })

    it("property: garbage install leaves the old library in force and logs why", () => {
        const log = new EventLog(10000)
        const store = new LibraryStore(acceptAll, log)
        expect(store.installSigned(0, "Idle", good, MAC).ok).toBe(true)
        const before = store.current()
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 500 }), b => {
                const r = store.installSigned(1, "Idle", b, MAC)
                return !r.ok && store.current() === before && log.all().at(-1)!.kind === "DLIB_REJECTED"
            }),
            { numRuns: 500 }
        )
    })

    it("semantic checks: limits out of order are refused with offset and field", () => {
        const b = Buffer.from(good)
        // First entry's dose limits follow: name(1+8) unit(1). Find "Dopamine" and swap hardMax to 0.
        const at = b.indexOf("Dopamine") + 8 + 1 + 12
        b.writeUInt32LE(1, at) // hardMax 0.001 < softMax 15
        const r = parseLibrary(b)
        expect(r.ok).toBe(false)
        expect(r.error).toContain("ICU/Dopamine")
        expect(r.error).toContain("dose limits are out of order")
    })
})

describe("firmware parser: duplicate drug in a care area (issue 13 item 10, killing a surviving mutant)", () => {
    it("refuses compact bytes that name one drug twice in a care area, though the compiler never emits them", async () => {
        const { compileSource } = await import("../../tools/druglib/compile")
        const { encodeLibrary } = await import("../../tools/druglib/encode")
        const { parseLibrary } = await import("../../src/core/druglib/parse")
        const { testSource } = await import("./fixture")
        const src = compileSource(testSource()).source!
        // Encoded directly (bypassing the compiler's own check): a forged or hand-made library.
        src.careAreas[0].entries.push({ ...src.careAreas[0].entries[2] })
        const r = parseLibrary(encodeLibrary(src))
        expect(r.ok).toBe(false)
        expect((r as any).error).toContain("duplicate drug 'Morphine'")
        // The same entry in another care area is legitimate.
        const other = compileSource(testSource()).source!
        other.careAreas[1].entries.push({ ...other.careAreas[0].entries[2] })
        expect(parseLibrary(encodeLibrary(other)).ok).toBe(true)
    })
})
