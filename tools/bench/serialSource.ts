// Serial instrument source with reconnect. A bench run lasts hours: USB adapters get unplugged,
// balances reboot, cables glitch. The source keeps trying to reopen the port, notices a link
// that went silent (stall timeout), and reports every garbled line instead of dying on it.

import { ReadlineParser, SerialPort } from "serialport"
import {
    LINE_PARSERS,
    LineProtocol,
    parseSlf3xFrame,
    Parsed,
    ShdlcDecoder,
    slf3xReadRequest,
    slf3xStartRequest,
} from "./protocols"

export type SerialProtocol = LineProtocol | "scc1-slf3x"

export interface SerialSourceOptions {
    path: string
    baudRate: number
    protocol: SerialProtocol
    /** How often to ask the instrument for a reading (MT-SICS SI, SBI print, SCC1 read). 0: the
     *  instrument streams on its own (MT-SICS SIR sent once, SBI auto-print, pump log). */
    pollMs: number
    /** MT-SICS: use SIR (instrument repeats) instead of polling with SI. */
    mtSicsRepeat?: boolean
    /** SLF3x model key for the flow scale factor. */
    slfModel?: string
    reconnectMs: number
    /** No byte for this long while open: treat the link as dead and reopen it. */
    stallTimeoutMs: number
}

export interface SourceHandlers {
    reading(p: Extract<Parsed, { ok: true }>, raw: string): void
    malformed(reason: string, raw: string): void
    status(message: string): void
}

export class SerialSource {
    private readonly o: SerialSourceOptions
    private readonly h: SourceHandlers
    private port: SerialPort | null = null
    private stopped = false
    private pollTimer: NodeJS.Timeout | null = null
    private stallTimer: NodeJS.Timeout | null = null
    private reconnectTimer: NodeJS.Timeout | null = null
    private lastByteAt = 0
    connects = 0
    disconnects = 0

    constructor(o: SerialSourceOptions, h: SourceHandlers) {
        this.o = o
        this.h = h
    }

    start() {
        this.stopped = false
        this.open()
        this.stallTimer = setInterval(() => this.checkStall(), Math.max(100, Math.min(1000, this.o.stallTimeoutMs / 4)))
    }

    async stop() {
        this.stopped = true
        for (const t of [this.pollTimer, this.stallTimer]) if (t) clearInterval(t)
        if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
        const p = this.port
        this.port = null
        if (p && p.isOpen) await new Promise<void>(res => p.close(() => res()))
    }

    private open() {
        if (this.stopped) return
        const port = new SerialPort({ path: this.o.path, baudRate: this.o.baudRate, autoOpen: false })
        port.open(err => {
            if (err) {
                this.h.status(`cannot open ${this.o.path}: ${err.message}; retrying in ${this.o.reconnectMs} ms`)
                this.scheduleReconnect()
                return
            }
            if (this.stopped) {
                port.close()
                return
            }
            this.port = port
            this.connects++
            this.lastByteAt = Date.now()
            this.h.status(this.connects === 1 ? `connected to ${this.o.path}` : `reconnected to ${this.o.path}`)
            this.attach(port)
        })
    }

    private attach(port: SerialPort) {
        port.on("data", () => (this.lastByteAt = Date.now()))
        port.on("error", e => this.h.status(`serial error: ${e.message}`))
        port.on("close", () => {
            if (this.port !== port) return
            this.port = null
            this.disconnects++
            if (this.pollTimer) clearInterval(this.pollTimer)
            this.pollTimer = null
            if (!this.stopped) {
                this.h.status(`disconnected from ${this.o.path}; reconnecting`)
                this.scheduleReconnect()
            }
        })
        if (this.o.protocol === "scc1-slf3x") {
            const dec = new ShdlcDecoder()
            port.on("data", (chunk: Buffer) => {
                const r = dec.push(chunk)
                for (const e of r.errors) this.h.malformed(e, chunk.toString("hex"))
                for (const f of r.frames) this.deliver(parseSlf3xFrame(f, this.o.slfModel ?? "slf3s-0600f"), "shdlc:" + Buffer.from(f.data).toString("hex"))
            })
            port.write(slf3xStartRequest(Math.max(2, Math.min(this.o.pollMs || 100, 1000))))
            this.startPolling(port, slf3xReadRequest(), this.o.pollMs || 1000)
            return
        }
        const parse = LINE_PARSERS[this.o.protocol]
        const lines = port.pipe(new ReadlineParser({ delimiter: "\n", encoding: "latin1" }))
        lines.on("data", (line: string) => this.deliver(parse(line.replace(/\r$/, "")), line))
        if (this.o.protocol === "mt-sics") {
            if (this.o.mtSicsRepeat) port.write("SIR\r\n")
            else if (this.o.pollMs > 0) this.startPolling(port, Buffer.from("SI\r\n"), this.o.pollMs)
        } else if (this.o.protocol === "sartorius-sbi" && this.o.pollMs > 0) {
            this.startPolling(port, Buffer.from("\x1bP\r\n"), this.o.pollMs)
        }
    }

    private startPolling(port: SerialPort, request: Buffer, everyMs: number) {
        if (this.pollTimer) clearInterval(this.pollTimer)
        this.pollTimer = setInterval(() => {
            if (this.port === port && port.isOpen) port.write(request)
        }, everyMs)
    }

    private deliver(p: Parsed, raw: string) {
        if (p.ok === "skip") return
        if (p.ok === false) this.h.malformed(p.reason, raw)
        else this.h.reading(p, raw)
    }

    private checkStall() {
        const p = this.port
        if (!p || this.stopped) return
        if (Date.now() - this.lastByteAt > this.o.stallTimeoutMs) {
            this.h.status(`no data for ${this.o.stallTimeoutMs} ms; reopening ${this.o.path}`)
            this.lastByteAt = Date.now()
            // Closing fires "close", which schedules the reconnect.
            p.close(err => {
                if (err && this.port === p) {
                    this.port = null
                    this.disconnects++
                    this.scheduleReconnect()
                }
            })
        }
    }

    private scheduleReconnect() {
        if (this.stopped || this.reconnectTimer) return
        this.reconnectTimer = setTimeout(() => {
            this.reconnectTimer = null
            this.open()
        }, this.o.reconnectMs)
    }
}
