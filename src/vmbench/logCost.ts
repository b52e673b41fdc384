// VM work of the persistent-log paths (run by tools/benchLogCost.ts in a metered VM: the tool
// reads the WASM instruction counter at every "LC " line, so the difference between two lines is
// the work between them). The stores are the device's MirrorPageStore (Buffers) with settings
// that never flush (the flush is not measured here: it is the runtime's settings write).
import * as ds from "@devicescript/core"
import { MirrorPageStore, SettingsBytes } from "../core/persist/mirrorPageStore"
import { PersistentLog } from "../core/log/persistentLog"
import { DurableCell } from "../core/log/durableCell"
import { CELL_SLOT_BYTES, CELL_SLOTS, LOG_SLOT_BYTES, LOG_SLOTS } from "../core/persist/settingsLayout"

const settings: SettingsBytes = {
    readBytes: async (key: string) => null,
    writeBytes: async (key: string, value: Buffer) => {},
}
const logStore = new MirrorPageStore(settings, "pl", LOG_SLOTS, LOG_SLOT_BYTES, ds.sleep)
const cellStore = new MirrorPageStore(settings, "pc", CELL_SLOTS, CELL_SLOT_BYTES, ds.sleep)
const plog = new PersistentLog(logStore)
plog.recover()
const cell = new DurableCell(cellStore, 0, "snap")
await ds.sleep(1)
// Typical records: an alarm (short) and a long one that fills the slot (cut and marked). One
// operation a VM turn (a turn may run at most 131,072 opcodes).
for (let i = 0; i < 16; i++) {
    console.log("LC start")
    plog.append(1000 + i, "ALARM", "OCCL_DOWN priority=high p=412mmHg limit=300")
    console.log("LC append")
    await ds.sleep(1)
}
for (let i = 0; i < 16; i++) {
    console.log("LC start")
    plog.append(2000 + i, "STATE", "Running -> Alarm rate=25000 vtbi=45000 infused=12345 bolus=0 kvo=0 syringe=bd-plastipak-50 extra text to fill the slot up")
    console.log("LC appendLong")
    await ds.sleep(1)
}
for (let s = 0; s < LOG_SLOTS; s++) {
    console.log("LC start")
    plog.scanSlot(s)
    console.log("LC scanSlot")
    await ds.sleep(1)
}
for (let i = 0; i < 16; i++) {
    console.log("LC start")
    cell.set("v1,3,45000,25000,0,0,bd-plastipak-50,12345,678,1,0,0,12,34," + i)
    console.log("LC cellSet")
    await ds.sleep(1)
}
console.log("LC start")
const recs = plog.read(0, 4)
console.log("LC read4")
console.log("LC check " + recs.length + " " + plog.lastRecovery().records + " " + recs[3].detail + " " + cell.value)
console.log("LC END")
