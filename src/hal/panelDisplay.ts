// Front-panel displays. On a board: a 128x64 SSD1306 OLED on the shared I2C bus (address 0x3C,
// next to the step co-processor at 0x2A) as a 21x8 character screen (5x7 font + 1 px spacing).
// In the simulator and the HIL rig: a character-screen service on the Jacdac bus plus one
// console line per frame that the host tools parse.

import * as ds from "@devicescript/core"
import { SSD1306Driver, startCharacterScreen, startCharacterScreenDisplay } from "@devicescript/drivers"

export const PANEL_COLUMNS = 21
export const PANEL_ROWS = 8
export const OLED_I2C_ADDRESS = 0x3c

/** Time for the panel's own timer (the firmware takes its clock from the adapter layer). */
export interface PanelClock {
    millis(): number
    every(periodMs: number, fn: () => Promise<void>): void
}

export function devicePanelClock(): PanelClock {
    return {
        millis: () => ds.millis(),
        every: (periodMs: number, fn: () => Promise<void>) => {
            setInterval(fn, periodMs)
        },
    }
}

export interface PanelDisplay {
    show(lines: string[], inverted: boolean): Promise<void>
}

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
