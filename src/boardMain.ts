// Shared start-up of a real pump board, called by each board's entry file (the entry files only
// exist because server configs must name `pins.X` literally from their own @dsboard import).

import * as ds from "@devicescript/core"
import { EventLog } from "./core/eventLog"
import { createPump, errorText, startControlLoop } from "./control"
import { BoardPins, BoardServers, createBoardHardware, createBoardSensors } from "./hal/board"

/** A real pump starts Idle: no default program is loaded; a program arrives through the UI. */
export async function runBoardPump(boardId: string, pins: BoardPins, servers: BoardServers) {
    const log = new EventLog(256)
    log.onRecord = e => console.log("EVENT #" + e.seq + " t=" + e.timeMs + " " + e.kind + " " + e.detail)
    const pump = createPump(log)
    const hw = createBoardHardware(pins, servers, boardId)
    const sensors = createBoardSensors(pins, servers)

    // The co-processor may still hold a queue from before a host reset: flush it. If it does not
    // answer, the pump cannot deliver; latch DRIVE_FAULT now rather than at the first start.
    try {
        await hw.stepper.enable(false)
    } catch (e) {
        pump.raiseAlarm(ds.millis(), "DRIVE_FAULT", "step engine not answering at boot: " + errorText(e))
    }
    console.log(
        "boot " + hw.name +
            " door_closed=" + (await sensors.doorClosed()) +
            " plunger_engaged=" + (await sensors.plungerEngaged()) +
            " air=" + (await sensors.airInLine())
    )
    startControlLoop(hw, pump, log)
}
