// Issue 13 item 2: key hygiene across roles (REQ-SEC-001, REQ-SEC-013).
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { HexKeyRing, keyProblem, keySetProblems } from "../../src/core/remote/auth"
import * as P from "../../src/core/remote/packet"
import { MemoryPageStore } from "../../src/core/log/pageStore"
import { bootPump, exchange, newKey, provenCounters, request } from "./fixture"

const root = new URL("../../", import.meta.url).pathname
const tsx = join(root, "node_modules/.bin/tsx")
const druglib = join(root, "tools/druglib/cli.ts")

describe("key hygiene", () => {
    it("equal gateway and engineering keys refuse both roles, so the gateway key cannot clear out of service", () => {
        const k = newKey()
        const ring = new HexKeyRing(k.hex, k.hex.toUpperCase())
        expect([ring.keys[0], ring.keys[1]]).toEqual([null, null])
        const cells = new MemoryPageStore(2, 96)
        provenCounters(cells)
        const { ep, pump } = bootPump(cells, k.hex, k.hex)
        pump.setOutOfService(0, "cracked housing")
        expect(exchange(ep, k.bytes, request(k.bytes, 1, 1, P.CMD_CE_CLEAR_OOS))).toBeNull()
        expect(pump.state()).toBe("OutOfService")
        expect(ep.stats.noKey).toBe(1)
    })

    it("a library signing key equal to a remote key is refused on both sides", () => {
        const gw = newKey().hex
        const ce = newKey().hex
        expect(keySetProblems(gw, ce, gw)).toEqual(["equals the library key (one key per role)", "", "equals the gateway key (one key per role)"])
        expect(keySetProblems(gw, ce, ce.toUpperCase())[2]).toBe("equals the engineering key (one key per role)")
        expect(new HexKeyRing(gw, ce, ce).keys[1]).toBeNull()
        expect(keySetProblems(gw, ce, newKey().hex)).toEqual(["", "", ""])
    })

    it("one repeated byte in any letter case, and low-entropy patterns, are refused", () => {
        // 0xAA written with mixed case used to pass the text comparison.
        expect(keyProblem("aaAA".repeat(16))).toBe("placeholder key (one repeated byte)")
        expect(keyProblem("0123456789abcdef".repeat(4))).toBe("low-entropy key (8 distinct byte values)")
        expect(keyProblem("deadbeef".repeat(8))).toBe("low-entropy key (4 distinct byte values)")
        const counting = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString("hex")
        expect(keyProblem(counting)).toBe("low-entropy key (constant step between bytes)")
        // Random keys pass: 2000 draws, none refused (a false refusal has probability < 1e-9 each).
        for (let i = 0; i < 2000; i++) expect(keyProblem(randomBytes(32).toString("hex"))).toBe("")
    })

    it("every 64-hex-digit string in the repository is refused as a key", () => {
        const files = execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" }).split("\n").filter(f => f && f !== "package-lock.json" && /\.(ts|js|mjs|json|md|csv|txt|log|py|env.*)$/.test(f))
        const found = new Set<string>()
        for (const f of files) {
            let text = ""
            try {
                text = readFileSync(join(root, f), "utf8")
            } catch {
                continue
            }
            for (const m of text.matchAll(/(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])/g)) found.add(m[0])
        }
        // The test and benchmark keys that used to be in the sources are among them.
        expect(found.size).toBeGreaterThanOrEqual(2)
        for (const k of found) expect(keyProblem(k), k).not.toBe("")
        expect(keyProblem("3B1F0C9A5E7D2468ACE13579BDF02468A1B2C3D4E5F60718293A4B5C6D7E8F90")).toBe("public key (it appears in the source repository)")
    })

    it("druglib sign refuses an all-zero or repository key and writes nothing", () => {
        const dir = mkdtempSync(join(tmpdir(), "keys-"))
        const run = (...args: string[]) => spawnSync(tsx, [druglib, ...args], { encoding: "utf8", cwd: root })
        expect(run("compile", "docs/sample-drug-library.json", "-o", join(dir, "lib.dlib")).status).toBe(0)
        for (const [name, hex] of [["zero.key", "00".repeat(32)], ["repo.key", "c0ffee00112233445566778899aabbccddeeff0123456789abcdef0011223344"]]) {
            writeFileSync(join(dir, name), hex + "\n")
            const r = run("sign", join(dir, "lib.dlib"), "--key", join(dir, name), "-o", join(dir, name + ".sdlib"))
            expect(r.status).toBe(1)
            expect(r.stderr).toContain("key refused")
            expect(existsSync(join(dir, name + ".sdlib"))).toBe(false)
        }
    })
})
