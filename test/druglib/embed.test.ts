// `druglib embed` (REQ-BUD-004): the board images carry the signed library as a buffer literal;
// the tool refuses a library the pump would refuse at boot, so a wrong key fails on the bench.
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { compileFile } from "../../tools/druglib/compile"
import { BOARD_LIBRARY_MODULE, boardLibraryModule, embedProblem } from "../../tools/druglib/embed"
import { newKeyHex, sign } from "../../tools/druglib/sign"

const root = new URL("../../", import.meta.url).pathname
const body = compileFile(join(root, "docs/sample-drug-library.json")).bytes!
const key = Buffer.from(newKeyHex(), "hex")
const signed = sign(key, body)

/** The bytes of the hex`` literal in a generated module. */
function literalBytes(text: string): Buffer {
    const m = /hex`([0-9a-f\s]*)`/.exec(text)
    return Buffer.from(m![1].replace(/\s/g, ""), "hex")
}

describe("druglib embed: the board image's library", () => {
    it("writes the signed library byte for byte as the BOARD_LIBRARY buffer literal", () => {
        const text = boardLibraryModule(signed, "test")
        expect(text).toContain("export const BOARD_LIBRARY = hex`")
        expect(literalBytes(text).equals(signed)).toBe(true)
    })

    it("the committed module carries no library (an empty literal: refused at boot, never presumed valid)", () => {
        const committed = readFileSync(join(root, BOARD_LIBRARY_MODULE), "utf8")
        expect(literalBytes(committed).length).toBe(0)
        expect(committed).toBe(boardLibraryModule(null, "npm run druglib -- embed --none"))
    })

    it("refuses another pump's key, one altered byte and a library too short for a MAC", () => {
        expect(embedProblem(signed, key)).toBe("")
        expect(embedProblem(signed, Buffer.from(newKeyHex(), "hex"))).toContain("MAC does not verify")
        const bad = Buffer.from(signed)
        bad[100] ^= 1
        expect(embedProblem(bad, key)).toContain("MAC does not verify")
        expect(embedProblem(signed.subarray(0, 32), key)).toBe("too short to hold a MAC")
    })

    it("a well-signed but malformed body is refused (the pump's parser would refuse it too)", () => {
        const truncated = sign(key, body.subarray(0, 40))
        expect(embedProblem(truncated, key)).toMatch(/^malformed library: /)
    })

    it("the CLI writes nothing when the key does not verify", () => {
        const dir = mkdtempSync(join(tmpdir(), "embed-"))
        writeFileSync(join(dir, "lib.sdlib"), signed)
        writeFileSync(join(dir, "other.key"), newKeyHex() + "\n")
        const r = spawnSync(join(root, "node_modules/.bin/tsx"), [join(root, "tools/druglib/cli.ts"), "embed", join(dir, "lib.sdlib"), "--key", join(dir, "other.key"), "-o", join(dir, "out.ts")], { encoding: "utf8", cwd: root })
        expect(r.status).toBe(1)
        expect(r.stderr).toContain("MAC does not verify with this key")
        expect(existsSync(join(dir, "out.ts"))).toBe(false)
    }, 120_000)
})
