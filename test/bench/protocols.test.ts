// Instrument protocol parsers and the recording file: valid input decodes to the physical value,
// anything else is rejected with a reason and never throws.

import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
    formatMtSics,
    parseMtSics,
    parsePumpLog,
    parseSartoriusSbi,
    parseSlf3xFrame,
    ShdlcDecoder,
    shdlcChecksum,
    slf3xMeasurementResponse,
    slf3xReadRequest,
} from "../../tools/bench/protocols"
import { importCsv, importPumpLog } from "../../tools/bench/importers"
import { loadRecording, RecordingWriter } from "../../tools/bench/samples"

describe("MT-SICS", () => {
    it("decodes stable, dynamic, negative and unit-scaled weights", () => {
        expect(parseMtSics("S S      12.3456 g")).toMatchObject({ ok: true, kind: "mass_mg", value: 12345.6, stable: true })
        expect(parseMtSics("S D      12.3456 g\r")).toMatchObject({ ok: true, value: 12345.6, stable: false })
        expect(parseMtSics("S S     -0.0012 g")).toMatchObject({ ok: true, value: -1.2 })
        expect(parseMtSics("S S   1.5 kg")).toMatchObject({ ok: true, value: 1_500_000 })
    })
    it("rejects errors and garbage with a reason", () => {
        for (const l of ["ES", "EL", "S I", "S +", "S -", "S S  abc g", "S S 12.3 lb", "hello", "S S"]) {
            const p = parseMtSics(l)
            expect(p.ok, l).toBe(false)
        }
        expect(parseMtSics("   ")).toEqual({ ok: "skip" })
    })
    it("never throws on arbitrary input", () => {
        fc.assert(fc.property(fc.string(), s => void parseMtSics(s)))
    })
    it("round-trips the simulator's formatting", () => {
        fc.assert(
            fc.property(fc.integer({ min: -1e7, max: 1e8 }), tenthsMg => {
                const p = parseMtSics(formatMtSics(tenthsMg / 10, true))
                return p.ok === true && p.kind === "mass_mg" && Math.abs(p.value - tenthsMg / 10) < 1e-6
            }),
        )
    })
})

describe("Sartorius SBI", () => {
    it("decodes 16- and 22-character print lines; no unit means not yet stable", () => {
        expect(parseSartoriusSbi("+    12.3456 g  ")).toMatchObject({ ok: true, value: 12345.6, stable: true })
        expect(parseSartoriusSbi("N     +    12.3456 g  ")).toMatchObject({ ok: true, value: 12345.6, stable: true })
        expect(parseSartoriusSbi("-     0.0020 g  ")).toMatchObject({ ok: true, value: -2 })
        expect(parseSartoriusSbi("+    12.3456    ")).toMatchObject({ ok: true, stable: false })
    })
    it("rejects status and garbage lines", () => {
        expect(parseSartoriusSbi("  High  ").ok).toBe(false)
        expect(parseSartoriusSbi("Err 54").ok).toBe(false)
        expect(parseSartoriusSbi("#@!x").ok).toBe(false)
        fc.assert(fc.property(fc.string(), s => void parseSartoriusSbi(s)))
    })
})

describe("SCC1 / SLF3x (SHDLC)", () => {
    it("builds the read request frame with stuffing and checksum", () => {
        // addr 0, cmd 0x35, len 1, data 0x03: sum 0x39, checksum ~0x39 = 0xC6
        expect([...slf3xReadRequest()]).toEqual([0x7e, 0x00, 0x35, 0x01, 0x03, 0xc6, 0x7e])
        expect(shdlcChecksum([0x00, 0x35, 0x01, 0x03])).toBe(0xc6)
    })
    it("decodes a measurement: SLF3S-0600F raw 10 per µL/min, temperature 200 per °C", () => {
        // 1000 µL/h = 16.667 µL/min -> raw 167 -> 167/10 µL/min = 1002 µL/h (quantised)
        const frame = slf3xMeasurementResponse(1000, 23.5, 0, "slf3s-0600f")
        const r = new ShdlcDecoder().push(frame)
        expect(r.errors).toEqual([])
        const p = parseSlf3xFrame(r.frames[0], "slf3s-0600f")
        expect(p).toMatchObject({ ok: true, kind: "flow_ul_h", value: 1002, tempC: 23.5 })
    })
    it("decodes across chunk boundaries, unstuffs 0x7E/0x7D/0x11/0x13, flags air in line", () => {
        // raw flow 0x7E11 would need stuffing: choose a flow that encodes to it on the 1300F (500/mL/min)
        const raw = 0x117e // 4478 -> 4478/500 mL/min = 8.956 mL/min = 537360 µL/h
        const f = slf3xMeasurementResponse((raw / 500) * 60_000, 20, 0x0001, "slf3s-1300f")
        expect([...f].slice(1, -1)).toContain(0x7d) // stuffed
        const dec = new ShdlcDecoder()
        const a = dec.push(f.subarray(0, 4))
        const b = dec.push(f.subarray(4))
        expect(a.frames.length + b.frames.length).toBe(1)
        const p = parseSlf3xFrame(b.frames[0], "slf3s-1300f")
        expect(p).toMatchObject({ ok: true, value: 537360, event: "air_in_line" })
    })
    it("reports a corrupted frame instead of decoding it", () => {
        const f = Buffer.from(slf3xMeasurementResponse(1000, 20, 0, "slf3s-0600f"))
        f[5] ^= 0x01
        const r = new ShdlcDecoder().push(f)
        expect(r.frames).toEqual([])
        expect(r.errors).toEqual(["checksum error"])
    })
})

describe("pump log and CSV import", () => {
    it("reads status lines (1 s apart or capture-stamped) and alarm events", () => {
        const log = [
            "state=Running rate=25.000mL/h infused=0.000mL vtbi=50.000mL",
            "garbled state=Running rate=25",
            "state=Running rate=25.000mL/h infused=0.007mL vtbi=50.000mL",
            "EVENT #9 t=2000 ALARM OCCLUSION pressure high",
        ].join("\n")
        const r = importPumpLog(log)
        expect(r.samples.filter(s => s.kind === "volume_ul").map(s => [s.tMs, s.value])).toEqual([
            [0, 0],
            [1000, 7],
        ])
        expect(r.samples.find(s => s.kind === "event")!.note).toBe("alarm:OCCLUSION")
        expect(r.malformed).toHaveLength(1)
        expect(parsePumpLog("12.5 state=Running rate=1.000mL/h infused=0.250mL")).toMatchObject({ ok: true, value: 250, tS: 12.5 })
    })
    it("imports a generic CSV, converting units; bad rows counted", () => {
        const r = importCsv("time_s;mass_g;temp_c\n0;0.0000;21\n30;0.2080;21\nx;1;1\n60;oops;21\n")
        expect(r.samples.map(s => [s.tMs, s.kind, s.value, s.tempC])).toEqual([
            [0, "mass_mg", 0, 21],
            [30000, "mass_mg", 208, 21],
        ])
        expect(r.malformed.map(m => m.reason)).toEqual(["bad time", "bad value"])
        expect(() => importCsv("a,b\n1,2\n")).toThrow(/time column/)
    })
})

describe("recording file", () => {
    it("keeps every appended sample after a torn last line, and resumes cleanly", () => {
        const dir = mkdtempSync(join(tmpdir(), "bench-rec-"))
        const path = join(dir, "recording.csv")
        const w = RecordingWriter.create(path, { rateMlPerH: 1, source: "test", startedEpochMs: 0 })
        for (let i = 0; i < 5; i++) w.append({ tMs: i * 1000, kind: "mass_mg", value: i * 0.5, tempC: NaN, note: "" })
        w.close()
        appendFileSync(path, "5000,mass_mg,2.") // a crash mid-write
        expect(() => RecordingWriter.create(path, { rateMlPerH: 1, source: "x", startedEpochMs: 0 })).toThrow(/--resume/)
        const { writer, loaded } = RecordingWriter.resume(path)
        expect(loaded.samples).toHaveLength(5)
        // The torn row would parse as 2 mg although 2.x was being written: it must not be trusted.
        expect(loaded.badRows).toBe(1)
        writer.append({ tMs: 6000, kind: "mass_mg", value: 3, tempC: NaN, note: "" })
        writer.close()
        const again = loadRecording(path)
        expect(again.samples.map(s => s.value)).toEqual([0, 0.5, 1, 1.5, 2, 3])
        expect(readFileSync(path, "utf8")).toMatch(/# resumed/)
        rmSync(dir, { recursive: true, force: true })
    })
})
