// Front-panel displays. On a board: a 128x64 SSD1306 OLED on the shared I2C bus (address 0x3C,
// next to the step co-processor at 0x2A) as a 21x8 character screen (5x7 font + 1 px spacing).
// In the simulator and the HIL rig: a character-screen service on the Jacdac bus plus one
// console line per frame that the host tools parse.

import * as ds from "@devicescript/core"
import { SSD1306Driver, startCharacterScreen, startCharacterScreenDisplay } from "@devicescript/drivers"
import { PanelDisplay, PanelKeySource } from "./types"

export const PANEL_COLUMNS = 21
export const PANEL_ROWS = 8
export const OLED_I2C_ADDRESS = 0x3c

/** The board's OLED. Inversion (high-priority alarm) is the controller's own invert command. */
export async function startOledDisplay(): Promise<PanelDisplay> {
    const oled = new SSD1306Driver({ width: 128, height: 64, devAddr: OLED_I2C_ADDRESS })
    const screen = await startCharacterScreenDisplay(oled, { columns: PANEL_COLUMNS, rows: PANEL_ROWS })
    let inverted = false
    return {
        show: async (lines: string[], inv: boolean) => {
            if (inv !== inverted) {
                inverted = inv
                await oled.invert(inv)
            }
            await screen.message.write(lines.join("\n"))
        },
    }
}

/** Simulator / HIL: a character-screen service (visible in the devtools dashboard) and a
 *  `PANEL inv=0 |line0|...|line7|` console line per frame for the terminal panel and the rig. */
export async function startConsoleDisplay(): Promise<PanelDisplay> {
    const screen: ds.CharacterScreen = await startCharacterScreen(async (m: string) => {}, { columns: PANEL_COLUMNS, rows: PANEL_ROWS })
    return {
        show: async (lines: string[], inv: boolean) => {
            console.log("PANEL inv=" + (inv ? 1 : 0) + " |" + lines.join("|") + "|")
            await screen.message.write(lines.join("\n"))
        },
    }
}

/** The five key drivers (startButton on the BTN_* pins, started by the entry) as a key source. */
export function buttonKeys(start: ds.Button, stop: ds.Button, up: ds.Button, down: ds.Button, ack: ds.Button): PanelKeySource {
    const buttons = [start, stop, up, down, ack]
    const names = ["start", "stop", "up", "down", "ack"]
    return {
        onKey: (handler: (key: string, down: boolean) => void) => {
            for (let i = 0; i < buttons.length; i++) wireButton(buttons[i], names[i], handler)
        },
    }
}

// A function per button: closures over a `for (let i...)` variable are broken in DeviceScript.
function wireButton(b: ds.Button, name: string, handler: (key: string, down: boolean) => void) {
    b.down.subscribe(() => handler(name, true))
    b.up.subscribe(() => handler(name, false))
}
