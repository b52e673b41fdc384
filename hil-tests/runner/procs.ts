// Process handling for the simulator backend: every child gets its own process group so the
// runner can end it and anything it spawned, on success, failure and Ctrl-C alike.

import { ChildProcess, spawn } from "node:child_process"
import { createConnection } from "node:net"
import { createInterface } from "node:readline"

const children = new Set<ChildProcess>()

export function startChild(cmd: string, args: string[], cwd: string, onLine: (line: string) => void): ChildProcess {
    const child = spawn(cmd, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] })
    children.add(child)
    child.on("exit", () => children.delete(child))
    createInterface({ input: child.stdout! }).on("line", onLine)
    createInterface({ input: child.stderr! }).on("line", onLine)
    return child
}

export async function stopChild(child: ChildProcess | undefined, timeoutMs = 5000): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const done = new Promise<void>(res => child.once("exit", () => res()))
    try {
        process.kill(-child.pid!, "SIGTERM")
    } catch {
        /* already gone */
    }
    const t = setTimeout(() => {
        try {
            process.kill(-child.pid!, "SIGKILL")
        } catch {
            /* already gone */
        }
    }, timeoutMs)
    await done
    clearTimeout(t)
}

/** Synchronous last resort (process exit handlers cannot await). */
export function killAllChildren() {
    for (const c of children) {
        try {
            process.kill(-c.pid!, "SIGKILL")
        } catch {
            /* already gone */
        }
    }
}

export function portOpen(port: number): Promise<boolean> {
    return new Promise(res => {
        const s = createConnection(port, "127.0.0.1")
        s.once("connect", () => {
            s.destroy()
            res(true)
        })
        s.once("error", () => res(false))
    })
}

/** Resolves when `cond()` holds, checking every `everyMs`; rejects with `what` after `timeoutMs`. */
export function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
    const start = Date.now()
    return new Promise((res, rej) => {
        const tick = async () => {
            let ok = false
            try {
                ok = await cond()
            } catch {
                ok = false
            }
            if (ok) return res()
            if (Date.now() - start > timeoutMs) return rej(new Error("timed out after " + timeoutMs + " ms waiting for " + what))
            setTimeout(tick, everyMs)
        }
        tick()
    })
}
