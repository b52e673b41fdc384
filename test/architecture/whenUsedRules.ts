// Guard for the DeviceScript `@devsWhenUsed` tag (src/ classes and methods). By default the devs
// compiler puts every method of a reachable class into the image; with the tag a method goes in
// only when the program names it: through the class's own type, through `any` (any `.name`), or
// through an interface the class `implements` (the compiler follows `implements` clauses). A call
// through an interface the class only satisfies structurally (no `implements`) does NOT count:
// the method would be missing from the image and the call would fail at run time. So every tagged
// method whose name an interface in src/ also declares must belong to a class that implements
// that interface. A regex scan (TypeScript 7 has no JS parser API): declarations are one per line.
// Pure: it reads no files itself.

import { SourceFile } from "./importRules"

export interface WhenUsedViolation {
    file: string
    /** "Class.method" */
    member: string
    /** Interface that declares the same name and that the class does not implement. */
    iface: string
}

interface ClassInfo {
    file: string
    name: string
    implementsNames: string[]
    /** Public methods compiled only when used (tagged themselves, or every method of a tagged class). */
    whenUsed: string[]
}

const TAG = "@devsWhenUsed"
const CLASS_RE = /^(?:export\s+)?(?:abstract\s+)?class\s+(\w+)(?:<[^>]*>)?(?:\s+extends\s+[\w.]+(?:<[^>]*>)?)?(?:\s+implements\s+([\w.,\s<>]+?))?\s*\{/
const IFACE_RE = /^(?:export\s+)?interface\s+(\w+)(?:<[^>]*>)?(?:\s+extends\s+([\w.,\s<>]+?))?\s*\{/
const TYPE_LITERAL_RE = /^(?:export\s+)?type\s+(\w+)(?:<[^>]*>)?\s*=\s*\{/
const METHOD_RE = /^\s*(?:(?:public|private|protected|static|async|override)\s+)*(\w+)\s*(?:<[^>]*>)?\(/
/** Callable members only: a method signature, or a property of function type. */
const MEMBER_RE = /^\s*(?:readonly\s+)?(\w+)\??\s*(?:<[^>]*>\s*\(|\(|:\s*\()/

/** A line without string literals and // comments, for brace counting. */
function codeOf(line: string): string {
    return line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""').replace(/\/\/.*$/, "")
}

/** Index of the line that closes the block opened on line `start`. */
function blockEnd(lines: string[], start: number): number {
    let depth = 0
    for (let i = start; i < lines.length; i++) {
        const c = codeOf(lines[i])
        for (const ch of c) {
            if (ch === "{") depth++
            else if (ch === "}") {
                depth--
                if (depth === 0) return i
            }
        }
    }
    return lines.length - 1
}

/** True if the JSDoc block directly above line `i` carries the tag. */
function taggedAbove(lines: string[], i: number): boolean {
    let j = i - 1
    if (j < 0 || !lines[j].trim().endsWith("*/")) return false
    for (; j >= 0; j--) {
        if (lines[j].includes(TAG)) return true
        if (lines[j].trim().startsWith("/**")) return false
    }
    return false
}

function splitNames(list: string | undefined): string[] {
    if (!list) return []
    return list.split(",").map((s) => s.replace(/<.*$/, "").trim().split(".").pop()).filter((s) => s.length > 0)
}

export function scanClasses(files: SourceFile[]): ClassInfo[] {
    const out: ClassInfo[] = []
    for (const f of files) {
        const lines = f.text.split("\n")
        for (let i = 0; i < lines.length; i++) {
            const m = CLASS_RE.exec(lines[i])
            if (!m) continue
            const classTagged = taggedAbove(lines, i)
            const end = blockEnd(lines, i)
            const info: ClassInfo = { file: f.path, name: m[1], implementsNames: splitNames(m[2]), whenUsed: [] }
            let depth = 0
            for (let k = i; k <= end; k++) {
                // Members sit at depth 1 of the class body.
                if (depth === 1) {
                    const mm = METHOD_RE.exec(lines[k])
                    // A private method cannot satisfy an interface (TypeScript refuses the assignment).
                    const isPrivate = /^\s*(?:\w+\s+)*private\s/.test(lines[k])
                    if (mm && mm[1] !== "constructor" && !isPrivate && (classTagged || taggedAbove(lines, k))) info.whenUsed.push(mm[1])
                }
                for (const ch of codeOf(lines[k])) {
                    if (ch === "{") depth++
                    else if (ch === "}") depth--
                }
            }
            out.push(info)
            i = end
        }
    }
    return out
}

/** Interface (and object type alias) name -> member names and the interfaces it extends. */
export function scanInterfaces(files: SourceFile[]): Map<string, { members: string[]; bases: string[] }> {
    const out = new Map<string, { members: string[]; bases: string[] }>()
    for (const f of files) {
        const lines = f.text.split("\n")
        for (let i = 0; i < lines.length; i++) {
            const im = IFACE_RE.exec(lines[i])
            const tm = im ? null : TYPE_LITERAL_RE.exec(lines[i])
            if (!im && !tm) continue
            const name = im ? im[1] : tm[1]
            const end = blockEnd(lines, i)
            const entry = out.get(name) ?? { members: [], bases: [] }
            entry.bases.push(...splitNames(im ? im[2] : undefined))
            let depth = 0
            for (let k = i; k <= end; k++) {
                if (depth === 1) {
                    const mm = MEMBER_RE.exec(lines[k])
                    if (mm) entry.members.push(mm[1])
                }
                for (const ch of codeOf(lines[k])) {
                    if (ch === "{") depth++
                    else if (ch === "}") depth--
                }
            }
            out.set(name, entry)
            i = end
        }
    }
    return out
}

/** Every tagged method whose name an interface declares that its class does not implement. */
export function checkWhenUsed(files: SourceFile[]): WhenUsedViolation[] {
    const ifaces = scanInterfaces(files)
    const implemented = (names: string[]): Set<string> => {
        const seen = new Set<string>()
        const todo = [...names]
        while (todo.length > 0) {
            const n = todo.pop()
            if (seen.has(n)) continue
            seen.add(n)
            todo.push(...(ifaces.get(n)?.bases ?? []))
        }
        return seen
    }
    const out: WhenUsedViolation[] = []
    for (const c of scanClasses(files)) {
        if (c.whenUsed.length === 0) continue
        const impl = implemented(c.implementsNames)
        for (const method of c.whenUsed)
            for (const [iface, e] of ifaces)
                if (e.members.includes(method) && !impl.has(iface)) out.push({ file: c.file, member: c.name + "." + method, iface })
    }
    return out
}
