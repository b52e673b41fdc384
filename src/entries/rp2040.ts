// RP2040 reference pump board entry point (boards/pump_ref_rp2040.board.json, docs/boards.md).

import { startButton, startBuzzer, startPotentiometer } from "@devicescript/servers"
import { pins } from "@dsboard/pump_ref_rp2040"
import { runBoardPump } from "../firmware/boardStart"
import { createBoardHardware } from "../hal/board"
import { createDeviceServices } from "../hal/device"
// The signed drug library travels in the program image (`npm run druglib -- embed`, REQ-BUD-004).
import { BOARD_LIBRARY } from "../generated/boardLibrary"
import { buttonKeys, startOledDisplay } from "../hal/panelDisplay"

// Server configs must be literals naming pins.X, so they are started here, not in hal/board.ts.
const servers = {
    buzzer: startBuzzer({ pin: pins.BUZZER }),
    pressure: startPotentiometer({ pin: pins.PRESSURE }),
    battery: startPotentiometer({ pin: pins.BATTERY }),
    position: startPotentiometer({ pin: pins.POSITION }),
}
await runBoardPump("pump_ref_rp2040", createBoardHardware(pins, servers, "pump_ref_rp2040"), createDeviceServices(), BOARD_LIBRARY, startOledDisplay(), buttonKeys(
    startButton({ pin: pins.BTN_START }),
    startButton({ pin: pins.BTN_STOP }),
    startButton({ pin: pins.BTN_UP }),
    startButton({ pin: pins.BTN_DOWN }),
    startButton({ pin: pins.BTN_ACK }),
))
