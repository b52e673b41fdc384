// In-memory event log: a bounded ring with a monotonically increasing sequence number, so a
// reader can always tell whether records were overwritten (a gap in sequence numbers) rather
// than silently losing them. Persistence to flash sits behind the same `record` call.

import { EventKind } from "./eventKinds"

export interface LogEvent {
    seq: number
    timeMs: number
    kind: EventKind
    detail: string
}

export interface EventSink {
    record(timeMs: number, kind: EventKind, detail: string): void
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class EventLog implements EventSink {
    private readonly capacity: number
    private readonly items: LogEvent[] = []
    private nextSeq = 1
    private head = 0
    /** Optional mirror (console on the device, persistent store later). */
    onRecord: (e: LogEvent) => void = null

    constructor(capacity: number) {
        this.capacity = capacity
    }

    record(timeMs: number, kind: EventKind, detail: string) {
        const e: LogEvent = { seq: this.nextSeq, timeMs: timeMs, kind: kind, detail: detail }
        this.nextSeq++
        if (this.items.length < this.capacity) {
            this.items.push(e)
        } else {
            this.items[this.head] = e
            this.head = (this.head + 1) % this.capacity
        }
        if (this.onRecord) this.onRecord(e)
    }

    /** Records oldest first. */
    all(): LogEvent[] {
        const out: LogEvent[] = []
        for (let i = 0; i < this.items.length; i++) out.push(this.items[(this.head + i) % this.items.length])
        return out
    }

    ofKind(kind: EventKind): LogEvent[] {
        const out: LogEvent[] = []
        const list = this.all()
        for (let i = 0; i < list.length; i++) if (list[i].kind === kind) out.push(list[i])
        return out
    }

    /** Records recorded but no longer held (every record is held until the ring is full). */
    overwrittenCount(): number {
        return this.nextSeq - 1 - this.items.length
    }

    lastSeq(): number {
        return this.nextSeq - 1
    }
}
