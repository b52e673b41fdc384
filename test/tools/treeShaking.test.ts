import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

// DeviceScript compiles every method of a user class into the image unless the class carries the
// @devsWhenUsed JSDoc tag (then a method is compiled only where some reachable code names it).
// Untagged, the four images carried about 2 KB of methods nothing on the device calls, against
// the VM's 64 KB function-bytecode limit (docs/requirements.md TODO-CODE-1).
function tsFiles(dir: string): string[] {
    const out: string[] = []
    for (const name of readdirSync(dir)) {
        const p = join(dir, name)
        if (statSync(p).isDirectory()) out.push(...tsFiles(p))
        else if (name.endsWith(".ts")) out.push(p)
    }
    return out
}

describe("firmware classes are tree-shaken per method", () => {
    it("every top-level class in src/core, src/firmware and src/hal is tagged @devsWhenUsed", () => {
        const untagged: string[] = []
        let classes = 0
        for (const file of ["src/core", "src/firmware", "src/hal"].flatMap(tsFiles)) {
            const lines = readFileSync(file, "utf8").split("\n")
            lines.forEach((line, i) => {
                const m = /^(?:export )?(?:abstract )?class (\w+)/.exec(line)
                if (!m) return
                classes++
                // The JSDoc block right above the class must hold the tag.
                let j = i - 1
                const doc: string[] = []
                if (j >= 0 && lines[j].trim().endsWith("*/")) {
                    while (j >= 0) {
                        doc.push(lines[j])
                        if (lines[j].includes("/**")) break
                        j--
                    }
                }
                if (!doc.some(l => /^\s*(\/\*\*|\*)\s*@devsWhenUsed\b/.test(l))) untagged.push(`${file}:${i + 1} ${m[1]}`)
            })
        }
        expect(classes).toBeGreaterThan(30)
        expect(untagged).toEqual([])
    })
})
