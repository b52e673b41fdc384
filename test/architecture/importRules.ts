// The layer rules of src/ (docs/architecture.md, "Layers") as a checker over import lines, so
// test/architecture/imports.test.ts can run it on the real tree and on synthetic files that must
// fail. Pure: it reads no files itself.

import { posix } from "node:path"

export interface SourceFile {
    /** Repository-relative path with forward slashes, e.g. "src/core/pump.ts". */
    path: string
    text: string
}

export interface Violation {
    file: string
    /** The module specifier as written. */
    spec: string
    rule: string
}

/** Adapter modules of src/hal that hold only interfaces and constants: the firmware layer may
 *  import these (never an adapter implementation), so it stays runnable on Node. */
export const HAL_INTERFACES: readonly string[] = ["src/hal/types", "src/hal/hilTypes"]
/** The board images' drug library module (generated data; src/entries may import it). */
export const BOARD_LIBRARY_DATA = "src/generated/boardLibrary"

/** Host test folders that may import, beyond src/core, the firmware layer and the hal modules
 *  that import no @devicescript/* package (they run on Node with fake device services). */
export const HOST_FIRMWARE_TESTS = "test/firmware/"

/** The HIL host backend runs the firmware's own persistence on a virtual flash (power cut and
 *  restore on the host path), so it may import the Node-runnable firmware layer too. */
export const HOST_FIRMWARE_RUNNERS: readonly string[] = [HOST_FIRMWARE_TESTS, "hil-tests/runner/host.ts"]

/** Host test folder for the hal modules that import no @devicescript/* package (the TMC5160
 *  driver, step engine and register model run on Node); it may import those, not the firmware. */
export const HOST_HAL_TESTS = "test/hal/"

const STATIC_IMPORT = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*(["'])([^"'\n]+)\1/gm
const SIDE_EFFECT_IMPORT = /^[ \t]*import\s*(["'])([^"'\n]+)\1/gm
const DYNAMIC_IMPORT = /\b(?:import|require)\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g

/** Module specifiers of a file's import/export-from statements, side-effect imports, dynamic
 *  import() and require(). Comment lines are skipped; an import written inside a string literal
 *  (a line that starts with a quote) is not an import. */
export function importSpecifiers(text: string): string[] {
    const code = text
        .split("\n")
        .map((line) => (/^\s*(\/\/|\/\*|\*)/.test(line) ? "" : line))
        .join("\n")
    const specs: string[] = []
    for (const re of [STATIC_IMPORT, SIDE_EFFECT_IMPORT, DYNAMIC_IMPORT]) {
        re.lastIndex = 0
        let m: RegExpExecArray | null
        while ((m = re.exec(code)) !== null) specs.push(m[2])
    }
    return specs
}

/** The src/ folder a repository path lies in ("core", "hal", ...), or null outside src/. */
function srcFolder(path: string): string | null {
    const m = /^src\/([^/]+)\//.exec(path)
    return m ? m[1] : null
}

/** Repository-relative target of a relative specifier, or null for a package import. */
function resolveTarget(fromPath: string, spec: string): string | null {
    if (!spec.startsWith(".")) return null
    return posix.normalize(posix.join(posix.dirname(fromPath), spec))
}

function isPackage(spec: string, scope: string): boolean {
    return spec === scope || spec.startsWith(scope + "/")
}

export function checkImports(files: SourceFile[]): Violation[] {
    const out: Violation[] = []
    // src/hal modules that import a @devicescript/* package directly (not runnable on Node).
    const deviceBound = new Set<string>()
    for (const f of files)
        if (srcFolder(f.path) === "hal" && importSpecifiers(f.text).some((s) => isPackage(s, "@devicescript")))
            deviceBound.add(f.path.replace(/\.ts$/, ""))
    for (const f of files) {
        const from = srcFolder(f.path)
        const host = /^(test|tools|hil-tests)\//.test(f.path)
        for (const spec of importSpecifiers(f.text)) {
            const target = resolveTarget(f.path, spec)
            const to = target === null ? null : srcFolder(target)
            const fail = (rule: string) => out.push({ file: f.path, spec, rule })
            // The board images' drug library is data (a buffer literal, REQ-BUD-004): the entries may import it.
            const boardLibrary = from === "entries" && target !== null && target.replace(/\.ts$/, "") === BOARD_LIBRARY_DATA

            if (isPackage(spec, "@dsboard") && from !== "entries") fail("only src/entries imports @dsboard/*")

            if (from === "core") {
                if (target === null) fail("src/core imports no package (no @devicescript/*: it is host-tested)")
                else if (to !== "core") fail("src/core imports only src/core")
            } else if (from === "hal") {
                if (to !== null && to !== "core" && to !== "hal") fail("src/hal imports only src/core and src/hal")
            } else if (from === "firmware") {
                if (isPackage(spec, "@devicescript"))
                    fail("src/firmware imports no @devicescript/* (time and hardware come in through src/hal)")
                if (to === "hal" && HAL_INTERFACES.indexOf(target.replace(/\.ts$/, "")) < 0)
                    fail("src/firmware imports from src/hal only the interface modules")
                if (to !== null && to !== "core" && to !== "hal" && to !== "firmware")
                    fail("src/firmware imports only src/core, src/hal and src/firmware")
            } else if (from === "entries") {
                if (to !== null && to !== "hal" && to !== "firmware" && to !== "core" && !boardLibrary)
                    fail("src/entries imports only src/core, src/hal and src/firmware")
            } else if (from === "vmtests" || from === "vmbench") {
                if (to === "entries" || (to === "vmtests" && from !== "vmtests") || (to === "vmbench" && from !== "vmbench"))
                    fail("src/" + from + " does not import another image or test set")
            }
            if (to === "generated" && from !== "vmtests" && !host && !boardLibrary) fail("only src/vmtests imports src/generated (and src/entries its board library data)")
            if (from !== null && target !== null && to === null) fail("src/ imports nothing outside src/")

            if (host && to !== null && to !== "core") {
                const firmwareTest = HOST_FIRMWARE_RUNNERS.some(p => f.path.startsWith(p)) && (to === "firmware" || (to === "hal" && !deviceBound.has(target.replace(/\.ts$/, ""))))
                const halTest = f.path.startsWith(HOST_HAL_TESTS) && to === "hal" && !deviceBound.has(target.replace(/\.ts$/, ""))
                // The rig shares the HIL contract (keypad layout, line prefix) with the firmware.
                const hilContract = f.path.startsWith("hil-tests/") && target.replace(/\.ts$/, "") === "src/hal/hilTypes"
                if (!firmwareTest && !halTest && !hilContract)
                    fail("test/, tools/, hil-tests/ import from src/ only src/core (test/firmware/ and the HIL host backend also the Node-runnable firmware layer, test/hal/ the Node-runnable hal modules, hil-tests/ the HIL contract src/hal/hilTypes)")
            }
        }
    }
    return out
}
