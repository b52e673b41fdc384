// Issue 13 item 7: the druglib and log CLIs say what they verified, exit non-zero when asked to
// verify and unable to, and report file problems in one line, never a Node stack trace
// (REQ-DERS-018).
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { compileSource, compileText } from "../../tools/druglib/compile"
import { newKeyHex, sign } from "../../tools/druglib/sign"
import { testSource } from "./fixture"

const root = new URL("../../", import.meta.url).pathname
const tsx = join(root, "node_modules/.bin/tsx")

function run(tool: string, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise(resolve => {
        const p = spawn(tsx, [join(root, tool), ...args], { cwd: root })
        let stdout = ""
        let stderr = ""
        p.stdout.on("data", d => (stdout += d))
        p.stderr.on("data", d => (stderr += d))
        p.on("close", code => resolve({ status: code ?? -1, stdout, stderr }))
    })
}

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/)

describe("druglib and log CLI honesty", () => {
    it("a limit of 10^12 names the size rule, not the decimals rule", () => {
        const src = testSource()
        src.careAreas[0].entries[1].dose.hardMax = 1e12
        expect(compileSource(src).errors.map(e => e.message)).toEqual(["too large: the compact form holds at most 4294967.294 (got 1000000000000)"])
    })

    it("check, sign, compile and log export: verification stated, refusals exit non-zero, no stack traces", async () => {
        const dir = mkdtempSync(join(tmpdir(), "cli13-"))
        const sample = readFileSync(join(root, "docs/sample-drug-library.json"), "utf8")
        const bytes = compileText(sample).bytes!
        const key = Buffer.from(newKeyHex(), "hex")
        writeFileSync(join(dir, "dev.key"), key.toString("hex") + "\n")
        writeFileSync(join(dir, "lib.dlib"), bytes)
        writeFileSync(join(dir, "lib.sdlib"), sign(key, bytes))
        writeFileSync(join(dir, "LIB.JSON"), sample)
        writeFileSync(join(dir, "pump.log"), "LOG pump-1 1 0 BOOT n=1 *00000000\n")
        mkdirSync(join(dir, "sub"))
        const [unsignedWithKey, signedNoKey, signedKey, checkDir, compileToDir, exportToDir, upperJson, signJson] = await Promise.all([
            run("tools/druglib/cli.ts", "check", join(dir, "lib.dlib"), "--key", join(dir, "dev.key")),
            run("tools/druglib/cli.ts", "check", join(dir, "lib.sdlib")),
            run("tools/druglib/cli.ts", "check", join(dir, "lib.sdlib"), "--key", join(dir, "dev.key")),
            run("tools/druglib/cli.ts", "check", join(dir, "sub")),
            run("tools/druglib/cli.ts", "compile", "docs/sample-drug-library.json", "-o", join(dir, "sub")),
            run("tools/logTool.ts", "export", "docs/sample-logs/icu-01.log", "-o", join(dir, "sub")),
            run("tools/druglib/cli.ts", "check", join(dir, "LIB.JSON")),
            run("tools/druglib/cli.ts", "sign", join(dir, "LIB.JSON"), "--key", join(dir, "dev.key"), "-o", join(dir, "x.sdlib")),
        ])
        // Asked to verify an unsigned library: refused, not "ok".
        expect(unsignedWithKey.status).toBe(1)
        expect(unsignedWithKey.stderr).toContain("unsigned compact library (.dlib): --key cannot verify it")
        expect(unsignedWithKey.stdout).not.toContain("ok:")
        // A signed library checked without its key: valid structure, MAC not verified, exit 2.
        expect(signedNoKey.status).toBe(2)
        expect(signedNoKey.stdout).toContain("NOT verified: MAC (no --key given)")
        expect(signedKey.status).toBe(0)
        expect(signedKey.stdout).toContain("verified: firmware parser (structure and limits), MAC with " + join(dir, "dev.key"))
        for (const r of [checkDir, compileToDir, exportToDir]) {
            expect(r.status).not.toBe(0)
            expect(r.stderr).toContain(join(dir, "sub") + " is a directory")
            noStack(r.stderr)
        }
        // JSON is recognised by content, not by a lower-case extension.
        expect(upperJson.status).toBe(0)
        expect(upperJson.stdout).toContain("NOT verified: MAC (JSON source is not signed)")
        expect(signJson.status).toBe(1)
        expect(signJson.stderr).toContain("is library JSON source, not a compact library")
        noStack(signJson.stderr)
    }, 300_000)
})
