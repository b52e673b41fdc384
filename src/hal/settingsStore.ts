// Settings flash on @devicescript/settings: reads with a timeout, writes, and the page stores of
// the log and cells (MirrorPageStore in src/core/persist/mirrorPageStore.ts, which reads every write back).

import * as ds from "@devicescript/core"
import { settings } from "@devicescript/settings"
import { MirrorPageStore } from "../core/persist/mirrorPageStore"
import { SettingsAccess } from "./types"

const READ_TIMEOUT_MS = 250
const READ_ATTEMPTS = 4

/** Raw bytes of one setting (readSetting would JSON-parse them); null when missing or empty;
 *  throws after READ_ATTEMPTS gets with no answer in READ_TIMEOUT_MS. Each get waits for its
 *  report itself, not with ds.actionReport: that has no timeout, and a report that arrives before
 *  it suspends is lost, which hung the in-VM test on a loaded host. */
async function readRaw(key: string): Promise<Buffer> {
    const code = settings.spec.lookup("get").code
    // Set by the report handler; one handler at a time (each unsubscribed before the next get).
    let done = false
    let value: Buffer = null
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        done = false
        const unsub = settings.report().subscribe(pkt => {
            if (!done && pkt.serviceCommand === code && pkt.decode()[0] === key) {
                value = pkt.decode()[1]
                done = true
            }
        })
        await settings.get(key)
        const until = ds.millis() + READ_TIMEOUT_MS
        while (!done && ds.millis() < until) await ds.sleep(2)
        unsub()
        if (done) return value && value.length > 0 ? value : null
    }
    throw new Error("settings read timed out: " + key)
}

/** A JSON-encoded string setting (as `.env` files store them), "" if missing, unreadable or not
 *  a string. Replaces readSetting, which waits forever if the report is lost. */
export async function readTextSetting(key: string): Promise<string> {
    try {
        const b = await readRaw(key)
        if (!b) return ""
        const v = JSON.parse(b.toString())
        return typeof v === "string" ? v : ""
    } catch (e) {
        return ""
    }
}

/** The device's settings flash behind the firmware's SettingsAccess. */
export const deviceSettings: SettingsAccess = {
    readText: readTextSetting,
    readBytes: readRaw,
    writeBytes: async (key: string, value: Buffer) => {
        await settings.set(key, value)
    },
    pageStore: (prefix: string, count: number, size: number) => new MirrorPageStore(deviceSettings, prefix, count, size, ds.sleep),
}
