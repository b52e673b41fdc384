import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { ALL_STATES } from "../../src/core/stateMachine"
import { LibraryStore, mayChangeLibrary } from "../../src/core/druglib/store"
import { newKeyHex, nodeVerifier, sign, split } from "../../tools/druglib/sign"
import { compileTest, testSource } from "./fixture"

const key = Buffer.from(newKeyHex(), "hex")
const otherKey = Buffer.from(newKeyHex(), "hex")

function signedVersion(version: number, tweak = false) {
    const src = testSource()
    src.version = version
    if (tweak) src.careAreas[0].entries[0].dose.hardMax = 19
    return split(sign(key, compileTest(src).bytes))!
}

function fresh() {
    const log = new EventLog(100)
    return { store: new LibraryStore(nodeVerifier(key), log), log }
}

describe("library install rules", () => {
    it("installs a library whose HMAC verifies", () => {
        const { store, log } = fresh()
        const s = signedVersion(3)
        expect(store.installSigned(0, "Idle", s.body, s.mac)).toEqual({ ok: true, reason: "" })
        expect(store.current()!.version).toBe(3)
        expect(log.ofKind("DLIB_INSTALLED")[0].detail).toBe("'Test library' v3 date=20261101 areas=2 entries=5 (was none)")
    })

    it("refuses a wrong key, an altered byte, a short MAC; the old library stays and the reason is logged", () => {
        const { store, log } = fresh()
        const s = signedVersion(3)
        store.installSigned(0, "Idle", s.body, s.mac)
        const wrong = split(sign(otherKey, signedVersion(4).body))!
        expect(store.installSigned(1, "Idle", wrong.body, wrong.mac).reason).toBe("MAC does not verify (wrong key or altered library)")
        const altered = Buffer.from(signedVersion(4).body)
        altered[40] ^= 1
        expect(store.installSigned(2, "Idle", altered, signedVersion(4).mac).ok).toBe(false)
        expect(store.installSigned(3, "Idle", s.body, s.mac.subarray(0, 31)).reason).toBe("missing or malformed MAC")
        expect(store.current()!.version).toBe(3)
        const rej = log.ofKind("DLIB_REJECTED")
        expect(rej.length).toBe(3)
        expect(rej[0].detail).toBe("MAC does not verify (wrong key or altered library); library in force: 'Test library' v3")
    })

    it("no provisioned key: every library is refused", () => {
        const store = new LibraryStore(nodeVerifier(null), new EventLog(10))
        const s = signedVersion(3)
        expect(store.installSigned(0, "Idle", s.body, s.mac).reason).toBe("no device key is provisioned; every library is refused")
        expect(store.current()).toBe(null)
    })

    it("no rollback: an older version is refused; a newer one is accepted", () => {
        const { store } = fresh()
        const v5 = signedVersion(5)
        store.installSigned(0, "Idle", v5.body, v5.mac)
        const v4 = signedVersion(4)
        expect(store.installSigned(1, "Idle", v4.body, v4.mac).reason).toBe("version 4 is older than the installed 5 (rollback refused)")
        const v6 = signedVersion(6)
        expect(store.installSigned(2, "Idle", v6.body, v6.mac).ok).toBe(true)
        expect(store.current()!.version).toBe(6)
    })

    it("same version: identical content is accepted again, different content is refused", () => {
        const { store } = fresh()
        const a = signedVersion(5)
        store.installSigned(0, "Idle", a.body, a.mac)
        expect(store.installSigned(1, "Idle", a.body, a.mac).ok).toBe(true)
        const b = signedVersion(5, true)
        expect(store.installSigned(2, "Idle", b.body, b.mac).reason).toBe("version 5 is installed with different content; a changed library needs a new version")
    })

    it("never changes while an infusion is programmed, running, paused or alarming", () => {
        const allowed = ALL_STATES.filter(mayChangeLibrary)
        expect(allowed).toEqual(["Idle", "Complete", "OutOfService"])
        for (const st of ALL_STATES) {
            const { store } = fresh()
            const a = signedVersion(1)
            store.installSigned(0, "Idle", a.body, a.mac)
            const b = signedVersion(2)
            const r = store.installSigned(1, st, b.body, b.mac)
            expect(r.ok, st).toBe(allowed.includes(st))
            expect(store.current()!.version).toBe(r.ok ? 2 : 1)
        }
    })

    it("restore re-verifies the MAC (flash altered while powered off)", () => {
        const { store, log } = fresh()
        const a = signedVersion(2)
        const body = Buffer.from(a.body)
        body[30] ^= 0x10
        expect(store.restore(0, body, a.mac).ok).toBe(false)
        expect(log.ofKind("DLIB_RESTORE_FAILED").length).toBe(1)
        expect(store.restore(1, a.body, a.mac).ok).toBe(true)
    })
})
