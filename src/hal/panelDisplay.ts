// Front-panel displays. On a board: a 128x64 SSD1306 OLED on the shared I2C bus (address 0x3C,
// next to the step co-processor at 0x2A) as 8 text rows of 21 characters. In the simulator and
// the HIL rig: one console line per frame that the host tools parse.
//
// The OLED is written directly over I2C, not through @devicescript/drivers' SSD1306Driver and
// startCharacterScreenDisplay: that stack (graphics canvas, palette, image, character-screen
// server) costs about 7 KB of the VM's 64 KB function bytecode, this writer about 0.5 KB. A text
// row is exactly one SSD1306 page (8 pixel rows), so a row is 21 glyphs of 6 columns from the
// graphics package's 6x8 font, copied as they are (one byte per column, top pixel in bit 0, the
// controller's page format), and only rows whose text changed are sent.

import * as ds from "@devicescript/core"
import { PanelDisplay, PanelKeySource } from "./types"

export const PANEL_COLUMNS = 21
export const PANEL_ROWS = 8
export const OLED_I2C_ADDRESS = 0x3c

/** ASCII 32..126, 6 columns each (one byte per column, top pixel in bit 0): the 6x8 font of
 *  @devicescript/graphics (font8, MIT), copied so the graphics package is not linked in. */
const FONT_6X8 = hex`
    000000000000 00005e000000 000e000e0000 28fe28fe2800 4c92ff926400 02651248a640 6c92926ca000 00000e000000
    00007c820000 0000827c0000 543810385400 10107c101000 000090700000 101010101000 000060600000 006010080600
    003c42423c00 00447e400000 004462524c00 00424a4e3200 3028247e2000 004e4a4a3200 003c4a4a3000 000262120e00
    00344a4a3400 000c52523c00 00006c6c0000 000096760000 102828444400 282828282800 444428281000 000259090600
    3c425a560800 781412147800 7e4a4a4a3400 003c42422400 007e42423c00 007e4a4a4200 007e0a0a0200 003c42523400
    007e08087e00 00427e420000 2040423e0200 007e08146200 007e40404000 7e0418047e00 007e04087e00 3c4242423c00
    007e12120c00 003c5262bc00 007e12126c00 00244a522400 02027e020200 003e40403e00 001e70701e00 7e2018207e00
    422418244200 060870080600 0062524a4600 007e42420000 000608106000 0042427e0000 080402040800 808080808000
    000002040000 003048487800 007e48483000 003048484800 003048487e00 003068585000 00107c120400 0018a4a47800
    007e08087000 00487a400000 0040847d0000 007e10284000 00427e400000 780830087000 007808087000 003048483000
    00fc24241800 00182424fc00 007810081000 005058682800 00083e482000 003840407800 001860601800 384030403800
    004830304800 005ca0a07c00 004868584800 000836410000 0000fe000000 004136080000 000804080400
`

/** SSD1306 power-up (datasheet rev 1.1, "Software initialization"; Adafruit's 128x64 values):
 *  display off, clock /1, mux 64, offset 0, start line 0, charge pump on, horizontal addressing,
 *  segment remap + COM scan reversed (the usual module orientation), COM pins alternative,
 *  contrast 0xCF, precharge 0xF1, VCOMH 0x40, resume from RAM, normal (not inverted), display on.
 *  The leading 0x00 is the control byte "commands follow". */
const OLED_INIT = hex`00 AE D5 80 A8 3F D3 00 40 8D 14 20 00 A1 C8 DA 12 81 CF D9 F1 DB 40 A4 A6 AF`

/** The board's OLED. Inversion (high-priority alarm) is the controller's own invert command.
 *  One row is 1 + 128 data bytes plus a 7-byte window command: about 1.2 kbit, 3 ms at 400 kHz;
 *  a whole screen about 24 ms. A failed transfer throws to the panel turn (logged there) and the
 *  next frame starts with the initialisation again, so a display plugged in late comes up. */
export function startOledDisplay(write?: (addr: number, data: Buffer) => Promise<void>): PanelDisplay {
    // `write` is the in-VM test's bus model; on the board it is the I2C bus, through the VM's own
    // transaction call (what @devicescript/i2c's writeBuf calls, in DeviceScript 2.16): importing
    // that package puts its whole I2C class (seven methods, an error class) in every image that
    // imports this file, about 0.6 KB of the 64 KB function bytecode (TODO-CODE-1).
    const send = write ? write : async (addr: number, data: Buffer) => {
        const rc: number = await (ds as any)._i2cTransaction(addr, data)
        if (rc !== 0) throw new Error("I2C error " + rc + " dev=" + addr)
    }
    let shown: string[] = []
    let inverted = false
    let ready = false
    return {
        show: async (lines: string[], inv: boolean) => {
            if (!ready) {
                await send(OLED_I2C_ADDRESS, OLED_INIT)
                shown = []
                inverted = false
                ready = true
            }
            ready = false
            if (inv !== inverted) {
                await send(OLED_I2C_ADDRESS, inv ? hex`00 A7` : hex`00 A6`)
                inverted = inv
            }
            const row = Buffer.alloc(1 + 128)
            row[0] = 0x40 // control byte: data follows
            // Column window 0..127 on page r (bytes 5 and 6), then the row's 128 columns.
            const win = Buffer.alloc(7)
            win.blitAt(0, hex`00 21 00 7F 22`, 0, 5)
            for (let r = 0; r < PANEL_ROWS; r++) {
                const text = lines[r]
                if (shown[r] === text) continue
                for (let c = 0; c < PANEL_COLUMNS; c++) {
                    let ch = text.charCodeAt(c)
                    if (!(ch >= 32 && ch <= 126)) ch = 32 // outside the font: blank
                    row.blitAt(1 + c * 6, FONT_6X8, (ch - 32) * 6, 6)
                }
                win[5] = r
                win[6] = r
                await send(OLED_I2C_ADDRESS, win)
                await send(OLED_I2C_ADDRESS, row)
                shown[r] = text
            }
            ready = true
        },
    }
}

/** Simulator / HIL: a `PANEL inv=0 |line0|...|line7|` console line per frame for the terminal
 *  panel and the rig. */
export function startConsoleDisplay(): PanelDisplay {
    return {
        show: async (lines: string[], inv: boolean) => {
            console.log("PANEL inv=" + (inv ? 1 : 0) + " |" + lines.join("|") + "|")
        },
    }
}

/** The five key drivers (startButton on the BTN_* pins, started by the entry) as a key source. */
export function buttonKeys(start: ds.Button, stop: ds.Button, up: ds.Button, down: ds.Button, ack: ds.Button): PanelKeySource {
    return {
        onKey: (handler: (key: string, down: boolean) => void) => {
            wireButton(start, "start", handler)
            wireButton(stop, "stop", handler)
            wireButton(up, "up", handler)
            wireButton(down, "down", handler)
            wireButton(ack, "ack", handler)
        },
    }
}

// A function per button: closures over a `for (let i...)` variable are broken in DeviceScript.
function wireButton(b: ds.Button, name: string, handler: (key: string, down: boolean) => void) {
    b.down.subscribe(() => handler(name, true))
    b.up.subscribe(() => handler(name, false))
}
