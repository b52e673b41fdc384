// Virtual clock and timer queue shared by every component of the co-simulation (the VM, the
// jacdac-ts bus as its Scheduler, the plant stepping, scenario events). Time moves only when the
// loop advances it to the next due timer, so nothing waits on the wall clock and the order of
// events is a function of their times and of the order they were scheduled (deterministic).

interface Timer {
    atMs: number
    seq: number
    id: number
    fn: () => void
    everyMs: number
    cancelled: boolean
}

/** Binary min-heap on (atMs, seq). */
class TimerHeap {
    private a: Timer[] = []
    get size() {
        return this.a.length
    }
    peek(): Timer | undefined {
        return this.a[0]
    }
    private less(x: Timer, y: Timer) {
        return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq)
    }
    push(t: Timer) {
        const a = this.a
        a.push(t)
        let i = a.length - 1
        while (i > 0) {
            const p = (i - 1) >> 1
            if (!this.less(a[i], a[p])) break
            ;[a[i], a[p]] = [a[p], a[i]]
            i = p
        }
    }
    pop(): Timer | undefined {
        const a = this.a
        if (a.length === 0) return undefined
        const top = a[0]
        const last = a.pop()!
        if (a.length > 0) {
            a[0] = last
            let i = 0
            for (;;) {
                const l = 2 * i + 1
                const r = l + 1
                let m = i
                if (l < a.length && this.less(a[l], a[m])) m = l
                if (r < a.length && this.less(a[r], a[m])) m = r
                if (m === i) break
                ;[a[i], a[m]] = [a[m], a[i]]
                i = m
            }
        }
        return top
    }
}

/** Implements jacdac-ts's `Scheduler` (timestamp, setTimeout, setInterval, clear*, resetTime). */
export class VirtualClock {
    private now = 0
    private seq = 0
    private nextId = 1
    private heap = new TimerHeap()
    private live = new Map<number, Timer>()

    /** Virtual time in ms since the co-simulation started. */
    get nowMs(): number {
        return this.now
    }

    get timestamp(): number {
        return this.now
    }

    /** jacdac-ts calls this only in its own tests; virtual time never jumps backwards here. */
    resetTime(): void {
        throw new Error("VirtualClock.resetTime: the co-simulation's clock cannot be reset")
    }

    private add(fn: () => void, delayMs: number, everyMs: number): number {
        const d = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0
        const t: Timer = { atMs: this.now + d, seq: this.seq++, id: this.nextId++, fn, everyMs, cancelled: false }
        this.heap.push(t)
        this.live.set(t.id, t)
        return t.id
    }

    private cancel(id: unknown) {
        const t = this.live.get(id as number)
        if (t) {
            t.cancelled = true
            this.live.delete(t.id)
        }
    }

    setTimeout(handler: (...args: unknown[]) => void, delay: number, ...args: unknown[]): number {
        return this.add(() => handler(...args), delay, 0)
    }
    clearTimeout(handle: unknown): void {
        this.cancel(handle)
    }
    setInterval(handler: (...args: unknown[]) => void, delay: number, ...args: unknown[]): number {
        // An interval of 0 would never let time advance; browsers clamp too.
        return this.add(() => handler(...args), delay, Math.max(1, Number(delay) || 0))
    }
    clearInterval(handle: unknown): void {
        this.cancel(handle)
    }

    /** Time of the earliest pending timer (ms), or undefined if none. */
    nextDueMs(): number | undefined {
        for (;;) {
            const t = this.heap.peek()
            if (!t) return undefined
            if (!t.cancelled) return t.atMs
            this.heap.pop()
        }
    }

    /** Moves time forward to `tMs` (never backwards). */
    advanceTo(tMs: number) {
        if (tMs > this.now) this.now = tMs
    }

    /** Runs every timer due at or before now, in (time, scheduling) order; returns how many ran. */
    runDue(): number {
        let n = 0
        for (;;) {
            const t = this.heap.peek()
            if (!t || t.atMs > this.now) return n
            this.heap.pop()
            if (t.cancelled) continue
            if (t.everyMs > 0) {
                t.atMs = this.now + t.everyMs // as Node: the next run is one period after this one ran
                t.seq = this.seq++
                this.heap.push(t)
            } else this.live.delete(t.id)
            n++
            t.fn()
        }
    }
}
