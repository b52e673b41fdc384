// `@devsWhenUsed` methods of src/ are never reached through an interface the class does not
// implement (whenUsedRules.ts says why: the method would be left out of the image). The rule
// runs on the real tree, and fails on synthetic files that break it.

import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { describe, expect, it } from "vitest"
import { SourceFile } from "./importRules"
import { checkWhenUsed, scanClasses } from "./whenUsedRules"

const root = join(__dirname, "..", "..")

function walk(dir: string, out: SourceFile[]) {
    for (const name of readdirSync(dir)) {
        const full = join(dir, name)
        if (statSync(full).isDirectory()) walk(full, out)
        else if (name.endsWith(".ts")) out.push({ path: relative(root, full).split(sep).join("/"), text: readFileSync(full, "utf8") })
    }
}

describe("@devsWhenUsed on the real tree", () => {
    it("tags dosing setters of PumpController and no tagged method hides behind an unimplemented interface", () => {
        const files: SourceFile[] = []
        walk(join(root, "src"), files)
        const pump = scanClasses(files).find((c) => c.name === "PumpController")
        // The setters only tests call: they stay out of the shipping images (TODO-CODE-1).
        expect(pump.whenUsed).toEqual(expect.arrayContaining(["setLoadingDose", "setDoseLimit", "standby", "setBolusLockout", "setConcentration"]))
        expect(checkWhenUsed(files)).toEqual([])
    })
})

describe("the rule fails on code that breaks it", () => {
    const keys = "export interface AlarmKeys {\n    pauseAudio(nowMs: number): boolean\n}\n"
    const tagged = (impl: string) =>
        "/** Monitor. @devsWhenUsed */\nexport class Monitor" + impl + " {\n    private n = 0\n    /** Pause. */\n    pauseAudio(nowMs: number): boolean {\n        return true\n    }\n}\n"

    it("a tagged class reached structurally through an interface it does not implement", () => {
        const v = checkWhenUsed([{ path: "src/a.ts", text: keys }, { path: "src/b.ts", text: tagged("") }])
        expect(v).toEqual([{ file: "src/b.ts", member: "Monitor.pauseAudio", iface: "AlarmKeys" }])
    })

    it("passes once the class implements the interface, directly or through an extending one", () => {
        expect(checkWhenUsed([{ path: "src/a.ts", text: keys }, { path: "src/b.ts", text: tagged(" implements AlarmKeys") }])).toEqual([])
        const sub = keys + "export interface Keys2 extends AlarmKeys {\n    x: number\n}\n"
        expect(checkWhenUsed([{ path: "src/a.ts", text: sub }, { path: "src/b.ts", text: tagged(" implements Keys2") }])).toEqual([])
    })

    it("a single tagged method, and object type aliases count as interfaces", () => {
        const cls = "export class P {\n    /** Set.\n     *  @devsWhenUsed */\n    standby(nowMs: number) {\n        if (nowMs > 0) {\n            return 1\n        }\n    }\n    stop() {}\n}\n"
        const alias = "export type Panel = {\n    standby(nowMs: number): number\n    stop(): void\n}\n"
        expect(scanClasses([{ path: "src/p.ts", text: cls }])[0].whenUsed).toEqual(["standby"])
        // Private methods are exempt: TypeScript never lets such a class stand in for the interface.
        const priv = "/** @devsWhenUsed */\nexport class Q {\n    private standby(nowMs: number) {}\n}\n"
        expect(scanClasses([{ path: "src/p.ts", text: priv }])[0].whenUsed).toEqual([])
        expect(checkWhenUsed([{ path: "src/p.ts", text: cls }, { path: "src/q.ts", text: alias }])).toEqual([{ file: "src/p.ts", member: "P.standby", iface: "Panel" }])
        // A data field of the same name cannot be called, so it does not count.
        const data = "export interface Status {\n    standby: boolean\n}\n"
        expect(checkWhenUsed([{ path: "src/p.ts", text: cls }, { path: "src/q.ts", text: data }])).toEqual([])
    })
})
