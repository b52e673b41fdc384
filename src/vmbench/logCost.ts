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
// TEMP pieces
const TB = Buffer.alloc(1024)
const TA: number[] = []
for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    TB.setAt(n * 4, "u32", c >>> 0)
    TA.push(c >>> 0)
    if (n % 32 === 0) await ds.sleep(1)
}
function crcB(bytes: Buffer, from: number, to: number): number {
    const t = TB
    let c = 0xffffffff
    for (let i = from; i < to; i++) c = t.getAt(((c ^ bytes[i]) & 0xff) << 2, "u32") ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
}
function crcA(bytes: Buffer, from: number, to: number): number {
    const t = TA
    let c = 0xffffffff
    for (let i = from; i < to; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
}
import { crc32 } from "../core/log/crc32"
import { bytesToText, encodeRecordInto } from "../core/log/record"
{
    const b = Buffer.alloc(127)
    for (let i = 0; i < 127; i++) b[i] = 0x41 + (i % 26)
    for (let k = 0; k < 4; k++) {
        console.log("LC start")
        crc32(b, 0, 123)
        console.log("LC crc123")
        await ds.sleep(1)
        console.log("LC start")
        bytesToText(b, 13, 100)
        console.log("LC text100")
        await ds.sleep(1)
        console.log("LC start")
        bytesToText(b, 13, 40)
        console.log("LC text40")
        await ds.sleep(1)
        console.log("LC start")
        encodeRecordInto({ seq: 5, timeMs: 1234, kind: "ALARM", detail: "OCCL_DOWN priority=high p=412mmHg limit=300" }, b, 128)
        console.log("LC encode")
        await ds.sleep(1)
        console.log("LC start")
        logStore.write(3, 0, b)
        console.log("LC write127")
        await ds.sleep(1)
        console.log("LC start")
        for (let i = 0; i < 127; i++) b[i] = 0
        console.log("LC zero127")
        await ds.sleep(1)
        console.log("LC start")
        crcB(b, 0, 123)
        console.log("LC crcBufTable")
        await ds.sleep(1)
        console.log("LC start")
        crcA(b, 0, 123)
        console.log("LC crcArrTable")
        await ds.sleep(1)
        console.log("LC start")
        let bad = 0
        for (let i = 13; i < 113; i++) {
            const c = b[i]
            if (c < 0x20 || c > 0x7e) bad++
        }
        console.log("LC scan100")
        await ds.sleep(1)
        console.log("LC start")
        b.fillAt(0, 127, 0)
        console.log("LC fillAt")
        await ds.sleep(1)
        console.log("LC start")
        b.blitAt(13, "OCCL_DOWN priority=high p=412mmHg limit=300", 0, 43)
        console.log("LC blitStr")
        await ds.sleep(1)
        console.log("LC start")
        b.slice(13, 113).toString()
        console.log("LC sliceToString100")
        await ds.sleep(1)
        console.log("LC start")
        b.readUInt32LE(4)
        console.log("LC readU32")
        await ds.sleep(1)
        console.log("LC start")
        console.log("LC empty")
        await ds.sleep(1)
    }
}
console.log("LC END")
