// Layer rules of src/ (docs/architecture.md, "Layers"): the real tree obeys them, and each rule
// fails on a synthetic file that breaks it (so removing a rule from the checker fails this test).

import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { describe, expect, it } from "vitest"
import { checkImports, importSpecifiers, SourceFile } from "./importRules"

const root = join(__dirname, "..", "..")

function walk(dir: string, out: SourceFile[]) {
    for (const name of readdirSync(dir)) {
        if (name === "node_modules" || name.startsWith(".")) continue
        const full = join(dir, name)
        if (statSync(full).isDirectory()) walk(full, out)
        else if (/\.(ts|mts|mjs|js)$/.test(name))
            out.push({ path: relative(root, full).split(sep).join("/"), text: readFileSync(full, "utf8") })
    }
}

function treeFiles(): SourceFile[] {
    const out: SourceFile[] = []
    for (const d of ["src", "test", "tools", "hil-tests"]) walk(join(root, d), out)
    return out
}

/** Rules broken by one synthetic file importing `spec`. */
function rulesBroken(path: string, spec: string): string[] {
    return checkImports([{ path, text: 'import { x } from "' + spec + '"\n' }]).map((v) => v.rule)
}

describe("import rules on the real tree", () => {
    it("every file under src/, test/, tools/ and hil-tests/ obeys the layer rules", () => {
        const files = treeFiles()
        expect(files.filter((f) => f.path.startsWith("src/core/")).length).toBeGreaterThan(20)
        expect(checkImports(files)).toEqual([])
    })
})

describe("each rule fails on a file that breaks it", () => {
    it("src/core importing @devicescript/*, src/hal, src/firmware or src/entries", () => {
        expect(rulesBroken("src/core/pump.ts", "@devicescript/core")).toHaveLength(1)
        expect(rulesBroken("src/core/pump.ts", "../hal/types")).toHaveLength(1)
        expect(rulesBroken("src/core/log/record.ts", "../../firmware/control")).toHaveLength(1)
        expect(rulesBroken("src/core/pump.ts", "../entries/sim")).toHaveLength(1)
        expect(rulesBroken("src/core/log/record.ts", "../units")).toEqual([])
    })

    it("src/hal importing src/firmware or src/entries", () => {
        expect(rulesBroken("src/hal/sim.ts", "../firmware/control")).toHaveLength(1)
        expect(rulesBroken("src/hal/sim.ts", "../entries/sim")).toHaveLength(1)
        expect(rulesBroken("src/hal/sim.ts", "../core/pump")).toEqual([])
        expect(rulesBroken("src/hal/sim.ts", "@devicescript/core")).toEqual([])
    })

    it("anything but src/entries importing @dsboard/*", () => {
        expect(rulesBroken("src/entries/esp32s3.ts", "@dsboard/pump_ref_esp32s3")).toEqual([])
        for (const path of ["src/hal/board.ts", "src/firmware/boardStart.ts", "src/vmtests/core.ts", "tools/x.ts"])
            expect(rulesBroken(path, "@dsboard/pump_ref_rp2040"), path).toContain("only src/entries imports @dsboard/*")
    })

    it("src/firmware importing @devicescript/*, an adapter implementation or an entry", () => {
        expect(rulesBroken("src/firmware/control.ts", "@devicescript/core")).toHaveLength(1)
        expect(rulesBroken("src/firmware/control.ts", "../hal/board")).toHaveLength(1)
        expect(rulesBroken("src/firmware/control.ts", "../hal/types")).toEqual([])
        expect(rulesBroken("src/firmware/hilRun.ts", "../hal/hilTypes")).toEqual([])
        expect(rulesBroken("src/firmware/newGlue.ts", "../entries/sim")).toHaveLength(1)
    })

    it("test/, tools/ and hil-tests/ importing src/ beyond src/core", () => {
        expect(rulesBroken("test/core/x.test.ts", "../../src/firmware/control")).toHaveLength(1)
        expect(rulesBroken("tools/x.ts", "../src/hal/sim")).toHaveLength(1)
        expect(rulesBroken("hil-tests/runner/x.ts", "../../src/entries/hil")).toHaveLength(1)
        expect(rulesBroken("hil-tests/runner/x.ts", "../../src/core/pump")).toEqual([])
        // The rig and the firmware share one keypad layout (src/hal/hilTypes); no other hal module.
        expect(rulesBroken("hil-tests/runner/rig.ts", "../../src/hal/hilTypes")).toEqual([])
        expect(rulesBroken("hil-tests/runner/rig.ts", "../../src/hal/hil")).toHaveLength(1)
        // test/firmware runs the firmware layer on Node: it may import it and the hal modules
        // with no @devicescript/* import, but not a device-bound adapter.
        expect(rulesBroken("test/firmware/x.test.ts", "../../src/firmware/app")).toEqual([])
        expect(rulesBroken("test/core/x.test.ts", "../../src/firmware/app")).toHaveLength(1)
        const deviceHal = { path: "src/hal/deviceClock.ts", text: 'import * as ds from "@devicescript/core"\n' }
        const bad = { path: "test/firmware/x.test.ts", text: 'import { c } from "../../src/hal/deviceClock"\n' }
        expect(checkImports([deviceHal, bad]).map((v) => v.file)).toEqual(["test/firmware/x.test.ts"])
        // test/hal runs the Node-runnable hal modules (TMC5160 driver, model): not a device-bound
        // adapter, and not the firmware layer.
        expect(rulesBroken("test/hal/x.test.ts", "../../src/hal/tmc5160")).toEqual([])
        expect(rulesBroken("test/hal/x.test.ts", "../../src/firmware/app")).toHaveLength(1)
        const badHal = { path: "test/hal/x.test.ts", text: 'import { c } from "../../src/hal/deviceClock"\n' }
        expect(checkImports([deviceHal, badHal]).map((v) => v.file)).toEqual(["test/hal/x.test.ts"])
    })

    it("src/ importing outside src/, and src/generated imported by anything but src/vmtests", () => {
        expect(rulesBroken("src/hal/sim.ts", "../../tools/x")).toHaveLength(1)
        expect(rulesBroken("src/vmbench/tick.ts", "../generated/druglibFixture")).toHaveLength(1)
        expect(rulesBroken("src/vmtests/druglib.ts", "../generated/druglibFixture")).toEqual([])
        // The board entries may import their library data, nothing else generated.
        expect(rulesBroken("src/entries/rp2040.ts", "../generated/boardLibrary")).toEqual([])
        expect(rulesBroken("src/entries/rp2040.ts", "../generated/druglibFixture")).toHaveLength(2)
        expect(rulesBroken("src/firmware/app.ts", "../generated/boardLibrary")).toHaveLength(2)
    })
})

describe("import parsing", () => {
    it("finds multi-line, type-only, re-export, side-effect, dynamic and require imports", () => {
        const text = [
            "import {",
            "    a,",
            "    b,",
            '} from "./multi"',
            'import type { T } from "./typeOnly"',
            'export * from "./reexport"',
            'import "./sideEffect"',
            'const m = await import("./dynamic")',
            'const r = require("./required")',
        ].join("\n")
        expect(importSpecifiers(text).sort()).toEqual(["./dynamic", "./multi", "./reexport", "./required", "./sideEffect", "./typeOnly"])
    })

    it("ignores imports in comments and inside string literals", () => {
        const text = ['// import { x } from "../hal/sim"', " * import { y } from \"../hal/sim\"", "const src = 'import { runHil } from \"../../src/firmware/hilRun\"\\n'"].join("\n")
        expect(importSpecifiers(text)).toEqual([])
    })
})
