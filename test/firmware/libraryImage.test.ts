// A library verified at boot keeps its entries in the signed buffer it was verified from. On a
// board that buffer is the literal in the program image (flash); a copy of the body was a 6 KB
// block on the 64 KB VM heap (REQ-HEAP-003).

import { describe, expect, it } from "vitest"
import { EventLog } from "../../src/core/eventLog"
import { decodeEntry } from "../../src/core/druglib/parse"
import { LibraryStore } from "../../src/core/druglib/store"
import { cryptoVerifier, verifyAtBoot } from "../../src/firmware/libraryDevice"
import { compileFile } from "../../tools/druglib/compile"
import { newKeyHex, sign } from "../../tools/druglib/sign"
import { FakeClock, fakeDeviceServices, MapSettings } from "./fakeDevice"

describe("library verified at boot (REQ-HEAP-003)", () => {
    it("keeps the signed buffer itself, not a copy of its body, and decodes entries from it", async () => {
        const lib = compileFile("docs/sample-drug-library.json")
        const key = Buffer.from(newKeyHex(), "hex")
        const signed = sign(key, lib.bytes!)
        const clock = new FakeClock()
        const dev = fakeDeviceServices(clock, new MapSettings())
        const log = new EventLog(16)
        const store = new LibraryStore(cryptoVerifier(key, dev.hmacSha256), log)
        // The parse yields to the clock between steps (the VM's per-turn opcode limit).
        const pending = verifyAtBoot(store, 0, dev, signed)
        await clock.advanceTo(10000)
        const r = await pending
        expect(r.ok).toBe(true)
        const current = store.current()
        expect(current.bytes).toBe(signed)
        // The sample library's first ICU entry, decoded from that buffer.
        expect(decodeEntry(current, current.careAreas[0], 0).drug).toBe("Heparin")
    })
})
