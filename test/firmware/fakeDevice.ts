// Host stand-ins for the device services (src/hal/types.ts DeviceServices): a virtual-time clock,
// settings flash as a Map that outlives a "power cut", and HMAC-SHA256 from node:crypto.

import { createHmac, randomBytes } from "node:crypto"
import { Clock } from "../../src/core/clock"
import { toBuffer, toBytes } from "../../src/core/bytes"
import { MirrorPageStore } from "../../src/core/persist/mirrorPageStore"
import { DeviceServices, FlashPageStore, SettingsAccess } from "../../src/hal/types"

interface Timer {
    dueMs: number
    periodMs: number
    seq: number
    fn: () => void | Promise<void>
}

/** Lets every promise chain started by a timer callback run to its next wait on the clock (all
 *  fakes answer at once, so one macrotask turn drains them). */
function settle(): Promise<void> {
    return new Promise(resolve => setImmediate(resolve))
}

/** Timers on virtual time: nothing runs until the test advances the clock; timers fire in due
 *  order (equal times in the order they were set), each callback settling before the next. */
export class FakeClock implements Clock {
    private now = 0
    private seq = 0
    private timers: Timer[] = []
    /** Set by powerOff(): timers of the old firmware never fire again. */
    private dead = false

    nowMs(): number {
        return this.now
    }
    every(periodMs: number, fn: () => void | Promise<void>) {
        this.add(periodMs, Math.max(1, periodMs), fn)
    }
    after(delayMs: number, fn: () => void | Promise<void>) {
        this.add(delayMs, 0, fn)
    }
    sleep(ms: number): Promise<void> {
        return new Promise(resolve => this.add(ms, 0, resolve))
    }

    private add(delayMs: number, periodMs: number, fn: () => void | Promise<void>) {
        if (this.dead) return
        this.timers.push({ dueMs: this.now + Math.max(0, delayMs), periodMs, seq: this.seq++, fn })
    }

    private next(): Timer {
        let best: Timer = null
        for (const t of this.timers) if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq)) best = t
        return best
    }

    private async fireNext(): Promise<void> {
        const t = this.next()
        this.now = t.dueMs
        if (t.periodMs > 0) {
            t.dueMs += t.periodMs
            t.seq = this.seq++
        } else this.timers.splice(this.timers.indexOf(t), 1)
        t.fn()
        await settle()
    }

    /** Runs every timer due up to `untilMs`, then sets the clock there. */
    async advanceTo(untilMs: number) {
        await settle()
        for (let t = this.next(); t && t.dueMs <= untilMs; t = this.next()) await this.fireNext()
        this.now = untilMs
    }

    async advanceBy(ms: number) {
        await this.advanceTo(this.now + ms)
    }

    /** Runs timers until `p` settles (boot); fails if that takes more than `limitMs` of virtual time. */
    async runUntil<T>(p: Promise<T>, limitMs: number): Promise<T> {
        let done = false
        p.then(() => (done = true), () => (done = true))
        const start = this.now
        await settle()
        while (!done) {
            const t = this.next()
            if (!t || t.dueMs - start > limitMs) throw new Error("not settled within " + limitMs + " ms of virtual time")
            await this.fireNext()
        }
        return p
    }

    /** Power cut: every timer dies with the firmware that set it. */
    powerOff() {
        this.dead = true
        this.timers = []
    }
}

/** Settings flash as a Map of key -> bytes; a power cut keeps it (the firmware objects are dropped).
 *  `fault` breaks writes to keys starting with `faultPrefix` as the runtime can: "drop" ignores the
 *  write (fstor full: -3, ignored by the runtime), "corrupt" stores it with one byte flipped,
 *  "throw" rejects it. */
export class MapSettings implements SettingsAccess {
    readonly flash = new Map<string, Buffer>()
    fault: "" | "drop" | "corrupt" | "throw" = ""
    faultPrefix = ""
    /** Writes attempted (every one, failed or not), and those that hit the fault. */
    writes = 0
    faultedWrites = 0

    async readText(key: string): Promise<string> {
        const b = this.flash.get(key)
        if (!b || b.length === 0) return ""
        try {
            const v = JSON.parse(b.toString())
            return typeof v === "string" ? v : ""
        } catch (e) {
            return ""
        }
    }
    async readBytes(key: string): Promise<Buffer> {
        const b = this.flash.get(key)
        return b && b.length > 0 ? Buffer.from(b) : null
    }
    async writeBytes(key: string, value: Buffer) {
        this.writes++
        if (this.fault !== "" && key.startsWith(this.faultPrefix)) {
            this.faultedWrites++
            if (this.fault === "drop") return
            if (this.fault === "throw") throw new Error("settings write failed")
            const bad = Buffer.from(value)
            bad[bad.length >> 1] ^= 0x10
            this.flash.set(key, bad)
            return
        }
        this.flash.set(key, Buffer.from(value))
    }
    pageStore(prefix: string, count: number, size: number): FlashPageStore {
        // The firmware's own page store, so host tests exercise its read-back.
        return new MirrorPageStore(this, prefix, count, size, () => Promise.resolve())
    }
}

function nodeHmac(key: Buffer, data: Buffer): Buffer {
    return createHmac("sha256", key).update(data).digest()
}

export function fakeDeviceServices(clock: FakeClock, settings: MapSettings): DeviceServices {
    return {
        clock,
        settings,
        remoteHmac: { mac: (key: number[], data: number[]) => toBytes(nodeHmac(toBuffer(key), toBuffer(data))) },
        hmacSha256: nodeHmac,
        randomBytes: (n: number) => [...randomBytes(n)],
        deviceId: () => "0123456789abcdef",
    }
}
