// Bench recording file: a CSV that is appended to and flushed to disk (fsync) per sample, so a
// run killed at any moment keeps every sample it had already received, and can be resumed.
//
//   # bench-recording v1
//   # meta {"rateMlPerH":25,"source":"serial:/dev/ttyUSB0","protocol":"mt-sics","startedEpochMs":...}
//   time_ms,kind,value,temp_c,note
//   30000,mass_mg,12.3456,,
//   31000,event,,,occlusion_on
//
// time_ms counts from the start of the recording (wall clock for instruments, virtual clock
// for --sim); a resumed run keeps counting from the original start so the gap stays visible.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs"

export type SampleKind = "mass_mg" | "flow_ul_h" | "volume_ul" | "event"

export interface BenchSample {
    tMs: number
    kind: SampleKind
    value: number
    /** Liquid / sensor temperature if the instrument reports it, else NaN. */
    tempC: number
    /** Event name (`occlusion_on`, `occlusion_off`, `alarm:<code>`, `reconnected`, ...). */
    note: string
}

export interface RecordingMeta {
    rateMlPerH: number
    source: string
    protocol?: string
    startedEpochMs: number
    /** Problems seen while recording (malformed lines, reconnects), carried into the report. */
    warnings?: string[]
    [key: string]: unknown
}

const MAGIC = "# bench-recording v1"
const HEADER = "time_ms,kind,value,temp_c,note"
const KINDS: SampleKind[] = ["mass_mg", "flow_ul_h", "volume_ul", "event"]

export function formatSample(s: BenchSample): string {
    const note = s.note.replace(/[,\r\n]/g, " ")
    const value = s.kind === "event" ? "" : String(s.value)
    const temp = Number.isFinite(s.tempC) ? String(s.tempC) : ""
    return `${Math.round(s.tMs)},${s.kind},${value},${temp},${note}`
}

/** Parses one data row; null (never a throw) for anything that is not a valid sample. */
export function parseSampleRow(line: string): BenchSample | null {
    const f = line.trim().split(",")
    if (f.length < 3 || f.length > 5) return null
    const tMs = Number(f[0])
    const kind = f[1] as SampleKind
    if (f[0] === "" || !Number.isFinite(tMs) || tMs < 0 || !KINDS.includes(kind)) return null
    const value = kind === "event" ? NaN : Number(f[2])
    if (kind !== "event" && (f[2] === "" || !Number.isFinite(value))) return null
    const tempC = f[3] === undefined || f[3] === "" ? NaN : Number(f[3])
    const note = f[4] ?? ""
    if (kind === "event" && note === "") return null
    return { tMs, kind, value, tempC, note }
}

export interface LoadedRecording {
    meta: RecordingMeta
    samples: BenchSample[]
    /** Rows that did not parse (a torn last line after a crash, hand edits). */
    badRows: number
    /** Reasons the recording itself is ambiguous (conflicting meta lines). */
    problems: string[]
}

export function loadRecording(path: string): LoadedRecording {
    const text = readFileSync(path, "utf8")
    let meta: RecordingMeta | null = null
    let metaText = ""
    const problems: string[] = []
    const samples: BenchSample[] = []
    let badRows = 0
    const lines = text.split("\n")
    // Every row is written with its newline in one write: a last line without one was torn by a
    // crash mid-write, and its number may be cut short ("12.34" -> "12.3"), so it is not trusted.
    const torn = lines.pop()
    if (torn !== undefined && torn.trim() !== "") badRows++
    for (const raw of lines) {
        const line = raw.trim()
        if (line === "" || line === HEADER || line === MAGIC) continue
        if (line.startsWith("# meta ")) {
            // Two different meta lines: the rate or density of the run is ambiguous (the last
            // one used to win silently).
            if (meta && line.slice(7) !== metaText) problems.push("conflicting '# meta' lines (rate, source or density of the run is ambiguous)")
            try {
                meta = JSON.parse(line.slice(7))
                metaText = line.slice(7)
            } catch {
                badRows++
            }
            continue
        }
        if (line.startsWith("#")) continue
        const s = parseSampleRow(line)
        if (s) samples.push(s)
        else badRows++
    }
    if (!meta) throw new Error(`${path}: not a bench recording (no '# meta' line)`)
    return { meta, samples, badRows, problems }
}

/** Append-only writer. Each `append` is one write + fsync: slower than buffering, but a bench
 *  run produces one sample per second at most and losing samples would void the test. */
export class RecordingWriter {
    private fd: number
    readonly path: string
    /** fsync per line; off only for --sim, whose run can be regenerated bit for bit. */
    private readonly durable: boolean
    count = 0

    private constructor(path: string, fd: number, durable: boolean) {
        this.path = path
        this.fd = fd
        this.durable = durable
    }

    static create(path: string, meta: RecordingMeta, durable = true): RecordingWriter {
        if (existsSync(path)) throw new Error(`${path} exists: use --resume to continue it or choose another --out`)
        const fd = openSync(path, "wx")
        const w = new RecordingWriter(path, fd, durable)
        w.writeLine(MAGIC)
        w.writeLine("# meta " + JSON.stringify(meta))
        w.writeLine(HEADER)
        return w
    }

    /** Reopens an interrupted recording for appending; returns what it already holds. */
    static resume(path: string): { writer: RecordingWriter; loaded: LoadedRecording } {
        const loaded = loadRecording(path)
        // A crash can leave a torn last line: cut it off (keeping its text as a comment) so it
        // can never be read back as a valid but truncated number.
        const text = readFileSync(path, "utf8")
        const cut = text.lastIndexOf("\n") + 1
        const torn = text.slice(cut)
        if (torn.length > 0) truncateSync(path, Buffer.byteLength(text.slice(0, cut)))
        const fd = openSync(path, "a")
        const w = new RecordingWriter(path, fd, true)
        w.writeLine("# resumed " + new Date().toISOString() + (torn.length > 0 ? " torn-row-dropped " + JSON.stringify(torn) : ""))
        w.count = loaded.samples.length
        return { writer: w, loaded }
    }

    append(s: BenchSample) {
        this.writeLine(formatSample(s))
        this.count++
    }

    comment(text: string) {
        this.writeLine("# " + text.replace(/[\r\n]/g, " "))
    }

    close() {
        if (this.fd >= 0) closeSync(this.fd)
        this.fd = -1
    }

    private writeLine(line: string) {
        writeSync(this.fd, line + "\n")
        if (this.durable) fsyncSync(this.fd)
    }
}
