// The device's Clock: the VM's millisecond counter and timers.

import * as ds from "@devicescript/core"
import { Clock } from "../core/clock"

export const deviceClock: Clock = {
    nowMs: () => ds.millis(),
    every: (periodMs: number, fn: () => void | Promise<void>) => {
        setInterval(fn, periodMs)
    },
    after: (delayMs: number, fn: () => void | Promise<void>) => {
        setTimeout(fn, delayMs)
    },
    sleep: async (ms: number) => {
        await ds.sleep(ms)
    },
}
