// In-VM check of the on-flash record layout: commitRecord on the VM (DeviceScript's native
// Buffer.from, slice, set and toString, which the host tests replace by Node's) writes the bytes
// of the layout, and decodeRecord reads them back. The expected images come from the reference
// encoder of test/log/recordFormat.test.ts (layout description, zlib CRC-32), written out here.

import { describe, expect, test } from "@devicescript/test"
import { MemoryPageStore } from "../core/log/pageStore"
import { commitRecord, decodeRecord, StoredRecord } from "../core/log/record"
import { MirrorPageStore, SettingsBytes } from "../core/persist/mirrorPageStore"

const NO_FLASH: SettingsBytes = {
    readBytes: async (key: string) => null,
    writeBytes: async (key: string, value: Buffer) => {},
}

function check(r: StoredRecord, size: number, hex: string, stored: string) {
    const mirror = new MirrorPageStore(NO_FLASH, "t", 1, size, async (ms: number) => {})
    expect(commitRecord(mirror, 0, r)).toBe(stored)
    const image = mirror.read(0) as Buffer
    expect(image.toString("hex")).toBe(hex)
    const back = decodeRecord(image)
    expect(back.seq).toBe(r.seq)
    expect(back.timeMs).toBe(Math.max(0, r.timeMs))
    expect(back.detail).toBe(stored)
    // The RAM store of the tests (number[] slots) gets the same bytes.
    const mem = new MemoryPageStore(1, size)
    expect(commitRecord(mem, 0, r)).toBe(stored)
    expect(Buffer.from(mem.read(0)).toString("hex")).toBe(hex)
    expect(decodeRecord(mem.read(0)).detail).toBe(stored)
}

describe("record layout in the VM", () => {
    test("short ASCII records: a 24-byte slot and a 64-byte slot with the largest seq and a 48-bit time", () => {
        check({ seq: 1, timeMs: 2, kind: "A", detail: "b" }, 24, "4c010000000200000000000101416200000000a2b1de34a5", "b")
        check(
            { seq: 4294967294, timeMs: 140737488367673, kind: "ALARM", detail: "OCCL_DOWN high p=412mmHg" },
            64,
            "4cfeffffff3930000000800518414c41524d4f43434c5f444f574e206869676820703d3431326d6d4867000000000000000000000000000000000078248a0ca5",
            "OCCL_DOWN high p=412mmHg"
        )
    })

    test("control and non-ASCII characters are stored as '?', one a character", () => {
        check(
            { seq: 5, timeMs: 3, kind: "NOTE", detail: "tab\there, DEL\x7f, e-acute \u00e9, euro \u20ac end" },
            64,
            "4c0500000003000000000004254e4f54457461623f686572652c2044454c3f2c20652d6163757465203f2c206575726f203f20656e6400000000009b798df2a5",
            "tab?here, DEL?, e-acute ?, euro ? end"
        )
        check({ seq: 6, timeMs: 7, kind: "N\u00c5ME", detail: "ok" }, 40, "4c0600000007000000000004024e3f4d456f6b000000000000000000000000000000009fbf35f3a5", "ok")
    })

    test("an over-long detail is cut and marked '~'; a negative time is stored as 0", () => {
        let long = ""
        for (let i = 0; i < 100; i++) long += "x"
        check({ seq: 4, timeMs: -2, kind: "PROGRAM", detail: long }, 40, "4c04000000000000000000070f50524f4752414d78787878787878787878787878787ebe1d2c72a5", "xxxxxxxxxxxxxx~")
    })
})
