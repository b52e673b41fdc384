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
    /** Resolves `ms` from now. On the device sleep(0) starts a new fiber turn (the VM's loop
     *  budget needs it) but resumes within the same runtime turn, before any packet or timer;
     *  sleep(1) lets the runtime take them (REQ-BUD-009). */
    sleep(ms: number): Promise<void>
}
