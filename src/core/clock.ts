// The one source of time and timers for the device glue (src/firmware). The device implements it
// with ds.millis / setInterval / setTimeout / ds.sleep (src/hal/deviceClock.ts); host tests with a
// virtual-time scheduler, so boot, power-loss restore and the control loop run in vitest on a fast
// clock. Shape after jacdac-ts's Scheduler (timestamp, setTimeout, setInterval). Type only.

export interface Clock {
    /** Milliseconds since power-up. */
    nowMs(): number
    /** Calls `fn` every `periodMs` until power-off (the firmware never cancels its timers). */
    every(periodMs: number, fn: () => void | Promise<void>): void
    /** Calls `fn` once, `delayMs` from now (0: after the current task). */
    after(delayMs: number, fn: () => void | Promise<void>): void
    /** Resolves `ms` from now; sleep(0) yields to other tasks (the VM's loop budget needs it). */
    sleep(ms: number): Promise<void>
}
