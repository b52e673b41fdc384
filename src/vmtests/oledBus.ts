// In-VM test of the OLED writer (src/hal/panelDisplay.ts) against a bus model: what it sends is
// checked against the SSD1306 datasheet's command bytes and, glyph by glyph, against the
// @devicescript/graphics 6x8 font it was copied from (an independent source for the table and
// its offsets). Imported by src/vmtests/ui.ts (`npm run test:vm:ui`); runs alone too.

import { font8 } from "@devicescript/graphics"
import { describe, expect, test } from "@devicescript/test"
import { startOledDisplay } from "../hal/panelDisplay"

/** The graphics font's 6 column bytes for `ch`, as hex. */
function glyphHex(ch: string): string {
    const f = font8().data
    const code = ch.charCodeAt(0)
    for (let k = 0; k + 8 <= f.length; k += 8) if (f[k] === code && f[k + 1] === 0) return f.slice(k + 2, k + 8).toString("hex")
    return "missing"
}

function blankLines(): string[] {
    const out: string[] = []
    for (let i = 0; i < 8; i++) out.push("                     ")
    return out
}

describe("OLED writer on a bus model", () => {
    test("initialises, sends each row as one page of glyphs, then only changed rows; inverts with 0xA7", async () => {
        const sent: string[] = []
        let otherAddress = -1
        const oled = startOledDisplay(async (addr: number, data: Buffer) => {
            if (addr !== 0x3c) otherAddress = addr
            sent.push(data.toString("hex"))
        })
        const lines = blankLines()
        lines[0] = "A~ 5 mL               "
        await oled.show(lines, false)
        expect(otherAddress).toBe(-1)
        // Datasheet: command stream (control byte 0x00), display off (AE) first, charge pump on
        // (8D 14), display on (AF) last.
        expect(sent[0].slice(0, 4)).toBe("00ae")
        expect(sent[0].indexOf("8d14") > 0).toBe(true)
        expect(sent[0].slice(sent[0].length - 2)).toBe("af")
        // Then per row: window (21 = column 0..0x7F, 22 = page r..r), data (0x40 + 128 bytes).
        expect(sent.length).toBe(1 + 8 * 2)
        expect(sent[1]).toBe("0021007f220000")
        expect(sent[15]).toBe("0021007f220707")
        const row0 = sent[2]
        expect(row0.length).toBe(2 * 129)
        expect(row0.slice(0, 2)).toBe("40")
        expect(row0.slice(2, 14)).toBe(glyphHex("A"))
        expect(row0.slice(14, 26)).toBe(glyphHex("~")) // the last glyph of the table
        expect(row0.slice(26, 38)).toBe(glyphHex(" "))
        expect(row0.slice(38, 50)).toBe(glyphHex("5"))
        expect(row0.slice(62, 74)).toBe(glyphHex("m"))
        expect(row0.slice(74, 86)).toBe(glyphHex("L"))
        // Second frame: only row 3 changed, and the alarm inversion.
        const before = sent.length
        lines[3] = "!                    "
        await oled.show(lines, true)
        expect(sent.length - before).toBe(3)
        expect(sent[before]).toBe("00a7")
        expect(sent[before + 1]).toBe("0021007f220303")
        expect(sent[before + 2].slice(2, 14)).toBe(glyphHex("!"))
    })

    test("a failed transfer is thrown to the caller and the next frame starts with the initialisation", async () => {
        let fail = true
        const sent: string[] = []
        const oled = startOledDisplay(async (addr: number, data: Buffer) => {
            if (fail) throw new Error("NACK")
            sent.push(data.toString("hex"))
        })
        let threw = false
        try {
            await oled.show(blankLines(), false)
        } catch (e) {
            threw = true
        }
        expect(threw).toBe(true)
        fail = false
        await oled.show(blankLines(), false)
        expect(sent[0].slice(0, 4)).toBe("00ae")
        expect(sent.length).toBe(1 + 8 * 2)
    })
})
