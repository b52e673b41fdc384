import { describe, expect, it } from "vitest"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { compileSource } from "../../tools/druglib/compile"
import { diffLibraries } from "../../tools/druglib/diff"
import { compileTest, testSource } from "./fixture"

const root = new URL("../../", import.meta.url).pathname
const tsx = join(root, "node_modules/.bin/tsx")
const cli = join(root, "tools/druglib/cli.ts")

describe("druglib compile: every error with its JSON path", () => {
    it("schema errors are all reported, not just the first", () => {
        const src = testSource()
        src.careAreas[0].entries[0].doseUnit = "mcg/kg/fortnight"
        src.careAreas[0].entries[1].dose.hardMax = "35"
        delete src.careAreas[1].entries[0].dose
        src.careAreas[0].entries[2].colour = "red"
        const paths = compileSource(src).errors.map(e => e.path)
        expect(paths).toContain("/careAreas/0/entries/0/doseUnit")
        expect(paths).toContain("/careAreas/0/entries/1/dose/hardMax")
        expect(paths).toContain("/careAreas/1/entries/0")
        expect(paths).toContain("/careAreas/0/entries/2")
    })

    it("semantic errors are all reported with path and reason", () => {
        const src = testSource()
        src.careAreas[0].entries[0].dose.softMax = 25 // above hardMax 20
        src.careAreas[0].entries[1].weightKg = undefined // weight-based without weight limits
        src.careAreas[0].entries[2].dose.default = 0.0001 // 4 decimals
        src.careAreas[0].entries[3].concentration.unit = "mEq" // units drug in mEq
        src.careAreas[1].entries.push({ ...src.careAreas[1].entries[0] }) // duplicate drug
        src.careAreas[0].entries[2].maxDose.unit = "units"
        const errs = compileSource(src).errors
        const msg = errs.map(e => e.path + ": " + e.message)
        expect(msg).toContain("/careAreas/0/entries/0/dose/hardMax: hardMax 20 is below softMax 25 (need hardMin <= softMin <= softMax <= hardMax)")
        expect(msg).toContain("/careAreas/0/entries/1/weightKg: weight-based unit units/kg/h needs weightKg hardMin (>= 0.001) and hardMax")
        expect(msg).toContain("/careAreas/0/entries/2/dose/default: at most 3 decimals allowed (got 0.0001)")
        expect(msg).toContain("/careAreas/0/entries/3/concentration/unit: mEq/mL cannot express a dose in units/h")
        expect(msg).toContain("/careAreas/1/entries/1/drug: duplicate drug 'Potassium chloride' in care area Pediatrics")
        expect(msg).toContain("/careAreas/0/entries/2/maxDose/unit: units does not match the dose unit mg/h")
        expect(errs.length).toBe(6)
    })

    it("a default outside the soft limits is an error (a default must never need an override)", () => {
        const src = testSource()
        src.careAreas[0].entries[0].dose.default = 16
        expect(compileSource(src).errors.map(e => e.path)).toEqual(["/careAreas/0/entries/0/dose/default"])
    })
})

describe("druglib diff", () => {
    it("lists added/removed drugs and changed limits", () => {
        const a = compileTest().lib
        const s = testSource()
        s.version = 8
        s.careAreas[0].entries[0].dose.hardMax = 18
        s.careAreas[0].entries.splice(3, 1) // remove Insulin
        s.careAreas[1].entries.push({ drug: "Saline flush", doseUnit: "mL/h", dose: { hardMax: 10 } })
        const b = compileTest(s).lib
        const lines = diffLibraries(a, b).map(l => l.kind + " " + l.where + ": " + l.detail)
        expect(lines).toEqual([
            "changed library: version 7 -> 8",
            "removed ICU/Insulin: drug entry",
            "changed ICU/Dopamine: dose.hardMax: 20.000 mcg/kg/min -> 18.000 mcg/kg/min",
            "added Pediatrics/Saline flush: drug entry in mL/h",
        ])
    })
})

describe("druglib CLI end to end", () => {
    it("keygen, compile, sign, check --key, tamper detection, errors exit 1", () => {
        const dir = mkdtempSync(join(tmpdir(), "druglib-"))
        const run = (...args: string[]) => spawnSync(tsx, [cli, ...args], { encoding: "utf8", cwd: root })
        expect(run("keygen", "-o", join(dir, "dev.key")).status).toBe(0)
        expect(run("keygen", "-o", join(dir, "dev.key")).status).toBe(1) // never overwrite a key
        const c = run("compile", "docs/sample-drug-library.json", "-o", join(dir, "lib.dlib"))
        expect(c.status).toBe(0)
        expect(c.stdout).toMatch(/4 care areas \(ICU \d+, Med-Surg \d+, Pediatrics \d+, Oncology \d+\), \d+ entries, \d+ drugs, \d+ bytes compact/)
        expect(run("sign", join(dir, "lib.dlib"), "--key", join(dir, "dev.key"), "-o", join(dir, "lib.sdlib")).status).toBe(0)
        const ok = run("check", join(dir, "lib.sdlib"), "--key", join(dir, "dev.key"))
        expect(ok.status).toBe(0)
        expect(ok.stdout).toContain("MAC with " + join(dir, "dev.key"))
        const signed = readFileSync(join(dir, "lib.sdlib"))
        signed[50] ^= 1
        writeFileSync(join(dir, "bad.sdlib"), signed)
        const bad = run("check", join(dir, "bad.sdlib"), "--key", join(dir, "dev.key"))
        expect(bad.status).toBe(1)
        expect(bad.stderr).toContain("MAC does not verify")
        const src = testSource()
        src.careAreas[0].entries[0].dose.softMax = 25
        src.careAreas[0].entries[1].dose.hardMax = -1
        writeFileSync(join(dir, "broken.json"), JSON.stringify(src))
        const broken = run("compile", join(dir, "broken.json"))
        expect(broken.status).toBe(1)
        expect(broken.stderr).toContain("/careAreas/0/entries/1/dose/hardMax: must be >= 0")
        expect(execFileSync(tsx, [cli, "diff", "docs/sample-drug-library.json", join(dir, "lib.dlib")], { encoding: "utf8", cwd: root })).toContain("0 differences")
    }, 300_000) // eight tool runs: over a minute on a loaded 2-core host
})
