// File access for the host CLIs with clear messages instead of Node stack traces (a directory,
// a missing file, a read-only path). Each returns a result or a one-line reason; callers print
// the reason and exit non-zero.

import { readFileSync, statSync, writeFileSync } from "node:fs"

/** `data` null: `reason` says why. */
export interface Read {
    ok: boolean
    data: Buffer | null
    reason: string
}

function why(path: string, e: unknown): string {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "EISDIR") return path + " is a directory, not a file"
    if (code === "ENOENT") return path + ": no such file"
    if (code === "EACCES" || code === "EPERM") return path + ": permission denied"
    return path + ": " + (e as Error).message
}

export function readInput(path: string): Read {
    try {
        if (statSync(path).isDirectory()) return { ok: false, data: null, reason: path + " is a directory, not a file" }
        return { ok: true, data: readFileSync(path), reason: "" }
    } catch (e) {
        return { ok: false, data: null, reason: "cannot read " + why(path, e) }
    }
}

/** "" on success, else why the file could not be written. */
export function writeOutput(path: string, data: string | Uint8Array, mode?: number): string {
    try {
        writeFileSync(path, data, mode === undefined ? undefined : { mode })
        return ""
    } catch (e) {
        return "cannot write " + why(path, e)
    }
}

/** True if the bytes are JSON text (first non-blank character '{' or '['), whatever the file name. */
export function looksLikeJson(data: Uint8Array): boolean {
    for (let i = 0; i < data.length && i < 4096; i++) {
        const c = data[i]
        if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xef || c === 0xbb || c === 0xbf) continue
        return c === 0x7b || c === 0x5b
    }
    return false
}
