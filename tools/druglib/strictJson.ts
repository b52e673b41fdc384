// JSON.parse keeps the last of two equal keys ("hardMax": 35, "hardMax": 3500 -> 3500) without a
// word. A pharmacy file with a duplicate key is ambiguous: find every one, with its JSON path and
// line, before parsing. Only called on text JSON.parse accepts, so the scanner can be simple.

export interface DuplicateKey {
    path: string
    key: string
    line: number
}

export function duplicateKeys(text: string): DuplicateKey[] {
    const out: DuplicateKey[] = []
    // Stack of containers: for objects the keys seen and the pending key; for arrays the index.
    const stack: { obj: boolean; keys: Set<string>; key: string; index: number; path: string }[] = []
    let line = 1
    let i = 0
    const childPath = () => {
        const top = stack[stack.length - 1]
        if (!top) return ""
        return top.path + "/" + (top.obj ? top.key : String(top.index))
    }
    while (i < text.length) {
        const c = text[i]
        if (c === "\n") line++
        if (c === '"') {
            let j = i + 1
            let s = ""
            while (j < text.length && text[j] !== '"') {
                if (text[j] === "\\") {
                    s += text.slice(j, j + 2)
                    j += 2
                } else s += text[j++]
            }
            const value = JSON.parse('"' + s + '"') as string
            const top = stack[stack.length - 1]
            // A string directly followed by ':' is a key.
            let k = j + 1
            while (k < text.length && /\s/.test(text[k])) k++
            if (top && top.obj && text[k] === ":") {
                if (top.keys.has(value)) out.push({ path: top.path + "/" + value, key: value, line })
                top.keys.add(value)
                top.key = value
            }
            i = j + 1
            continue
        }
        if (c === "{" || c === "[") {
            stack.push({ obj: c === "{", keys: new Set(), key: "", index: 0, path: childPath() })
        } else if (c === "}" || c === "]") {
            stack.pop()
        } else if (c === ",") {
            const top = stack[stack.length - 1]
            if (top && !top.obj) top.index++
        }
        i++
    }
    return out
}
