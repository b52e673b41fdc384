// The installed drug library and the rules for replacing it: authentic (HMAC-SHA256 with the
// per-device key), no rollback, never while an infusion is under way; anything else leaves the
// old library in force and logs why. Crypto and storage are injected so the same rules run on
// Node (tests, node:crypto) and on the device (@devicescript/crypto, settings).

import { EventKind } from "../eventKinds"
import { EventSink } from "../eventLog"
import { PumpState } from "../pumpStates"
import { DrugLibrary } from "./model"
import { ByteSource, parseLibrary, ParseResult } from "./parse"

export const MAC_BYTES = 32

export interface MacVerifier {
    /** False when no device key is provisioned: then every library is refused. */
    hasKey(): boolean
    /** True when `mac` equals HMAC-SHA256(device key, body) (compared in constant time). */
    verify(body: ByteSource, mac: ByteSource): boolean
}

export interface InstallResult {
    ok: boolean
    reason: string
}

/** Library changes are allowed only with no infusion programmed, running, paused or alarming. */
export function mayChangeLibrary(s: PumpState): boolean {
    return s === "Idle" || s === "Complete" || s === "OutOfService"
}

/** "'name' vN", or "none": the library in force as the log names it. */
function describe(lib: DrugLibrary): string {
    return lib ? "'" + lib.name + "' v" + lib.version : "none"
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class LibraryStore {
    private readonly verifier: MacVerifier
    private readonly log: EventSink
    private lib: DrugLibrary = null
    /** The installed library's MAC (the bytes, not a hex copy: 32 B of heap instead of a string). */
    private mac: ByteSource = null

    constructor(verifier: MacVerifier, log: EventSink) {
        this.verifier = verifier
        this.log = log
    }

    current(): DrugLibrary {
        return this.lib
    }

    /** Checks that need no parse: pump state, key present, MAC. "" when they pass. */
    gate(state: PumpState, body: ByteSource, mac: ByteSource): string {
        if (state !== null && !mayChangeLibrary(state)) return "pump is " + state + "; a library is installed only with no infusion programmed"
        if (!this.verifier.hasKey()) return "no device key is provisioned; every library is refused"
        if (!body || !mac || mac.length !== MAC_BYTES) return "missing or malformed MAC"
        if (!this.verifier.verify(body, mac)) return "MAC does not verify (wrong key or altered library)"
        return ""
    }

    /** Checks on the parsed candidate: parse errors, rollback, same version with other content. */
    judge(parsed: ParseResult, mac: ByteSource): string {
        if (!parsed.ok) return "malformed library: " + parsed.error
        const cand = parsed.library
        if (this.lib) {
            if (cand.version < this.lib.version)
                return "version " + cand.version + " is older than the installed " + this.lib.version + " (rollback refused)"
            // gate() passed: both MACs are MAC_BYTES long.
            let diff = 0
            for (let i = 0; i < MAC_BYTES; i++) diff |= mac[i] ^ this.mac[i]
            if (cand.version === this.lib.version && diff !== 0)
                return "version " + cand.version + " is installed with different content; a changed library needs a new version"
        }
        return ""
    }

    commit(nowMs: number, lib: DrugLibrary, mac: ByteSource, kind: EventKind) {
        const before = describe(this.lib)
        this.lib = lib
        this.mac = mac
        let entries = 0
        for (let i = 0; i < lib.careAreas.length; i++) entries += lib.careAreas[i].drugs.length
        this.log.record(nowMs, kind, describe(this.lib) + " date=" + lib.date + " areas=" + lib.careAreas.length +
            " entries=" + entries + " (was " + before + ")")
    }

    reject(nowMs: number, kind: EventKind, reason: string): InstallResult {
        this.log.record(nowMs, kind, reason + "; library in force: " + describe(this.lib))
        return { ok: false, reason: reason }
    }

    /** Whole install in one call (host and tests; the device runs the same steps with yields). Not
     *  named `install`: an interface call of that name (LibraryInstaller) would keep it in every image. */
    installSigned(nowMs: number, state: PumpState, body: ByteSource, mac: ByteSource): InstallResult {
        const g = this.gate(state, body, mac)
        if (g.length > 0) return this.reject(nowMs, "DLIB_REJECTED", g)
        const parsed = parseLibrary(body)
        const j = this.judge(parsed, mac)
        if (j.length > 0) return this.reject(nowMs, "DLIB_REJECTED", j)
        this.commit(nowMs, parsed.library, mac, "DLIB_INSTALLED")
        return { ok: true, reason: "" }
    }

    /** Boot: the persisted library is verified again (flash can be altered or torn). */
    restore(nowMs: number, body: ByteSource, mac: ByteSource): InstallResult {
        const g = this.gate(null, body, mac)
        if (g.length > 0) return this.reject(nowMs, "DLIB_RESTORE_FAILED", g)
        const parsed = parseLibrary(body)
        if (!parsed.ok) return this.reject(nowMs, "DLIB_RESTORE_FAILED", "malformed library: " + parsed.error)
        this.commit(nowMs, parsed.library, mac, "DLIB_RESTORED")
        return { ok: true, reason: "" }
    }
}
