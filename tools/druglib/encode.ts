// Compact form writer (layout in docs/drug-library.md; reader: src/core/druglib/parse.ts).

import { DoseSpec, LibrarySource, Limits, NONE } from "../../src/core/druglib/model"
import { FLAG_BOLUS, FLAG_LOADING, FLAG_WINDOW, FORMAT_VERSION, MAGIC, U32_NONE } from "../../src/core/druglib/parse"

class Writer {
    bytes: number[] = []
    u8(v: number) {
        if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error("u8 out of range: " + v)
        this.bytes.push(v)
    }
    u16(v: number) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new Error("u16 out of range: " + v)
        this.bytes.push(v & 255, v >> 8)
    }
    u32(v: number) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error("u32 out of range: " + v)
        this.u16(v % 65536)
        this.u16(Math.floor(v / 65536))
    }
    opt(v: number) {
        this.u32(v === NONE ? U32_NONE : v)
    }
    str(s: string) {
        const b = Buffer.from(s, "latin1")
        this.u8(b.length)
        for (const c of b) this.u8(c)
    }
    limits(l: Limits) {
        this.opt(l.hardMin)
        this.opt(l.softMin)
        this.opt(l.softMax)
        this.opt(l.hardMax)
    }
    doseSpec(s: DoseSpec) {
        this.u8(s.unit)
        this.limits(s.dose)
        this.opt(s.defaultDose)
        this.limits(s.durationS)
        this.opt(s.defaultDurationS)
    }
}

export function encodeLibrary(lib: LibrarySource): Buffer {
    const w = new Writer()
    for (let i = 0; i < MAGIC.length; i++) w.u8(MAGIC.charCodeAt(i))
    w.u8(FORMAT_VERSION)
    w.u32(lib.version)
    w.u32(lib.date)
    const lengthAt = w.bytes.length
    w.u32(0) // patched below
    w.str(lib.name)
    w.u8(lib.careAreas.length)
    for (const a of lib.careAreas) {
        w.str(a.name)
        w.limits(a.basicRateUlPerH)
        w.u8(a.entries.length)
        for (const e of a.entries) {
            w.str(e.drug)
            w.u8(e.doseUnit)
            w.limits(e.dose)
            w.opt(e.defaultDose)
            w.limits(e.weightG)
            w.u8(e.concUnit)
            w.u8(e.concentrations.length)
            for (const c of e.concentrations) {
                w.u32(c.amount)
                w.u32(c.volumeUl)
            }
            w.limits(e.customConc)
            w.u8((e.bolus ? FLAG_BOLUS : 0) | (e.loading ? FLAG_LOADING : 0) | (e.window ? FLAG_WINDOW : 0))
            if (e.bolus) w.doseSpec(e.bolus)
            if (e.loading) w.doseSpec(e.loading)
            if (e.window) {
                w.u8(e.window.unit)
                w.u32(e.window.maxAmount)
                w.u16(e.window.minutes)
            }
            w.u32(e.kvoUlPerH)
        }
    }
    const out = Buffer.from(w.bytes)
    out.writeUInt32LE(out.length, lengthAt)
    return out
}
