// End to end over a virtual serial port pair (socat pty): the bench recorder runs as its own
// process exactly as a user starts it; this test plays the balance on the other end of the pair.
// It sends valid MT-SICS lines mixed with malformed ones, pulls the link away mid-run (kills
// socat) and brings it back, kills the recorder with SIGKILL, and checks that every reading the
// recorder had reported as received is in the CSV; then resumes the run and finishes it.

import { ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SerialPort } from "serialport"
import { afterAll, describe, expect, it } from "vitest"
import { loadRecording } from "../../tools/bench/samples"
import { slf3xMeasurementResponse, ShdlcDecoder } from "../../tools/bench/protocols"

function haveSocat(): boolean {
    try {
        execFileSync("socat", ["-V"], { stdio: "ignore" })
        return true
    } catch {
        return false
    }
}

/** socat is a test dependency (Debian package). CI runs as root with apt: install it if missing;
 *  only if that is impossible are these tests skipped, and they say so. */
function ensureSocat(): string | null {
    if (haveSocat()) return null
    try {
        execFileSync("sh", ["-c", "apt-get install -y socat || (apt-get update && apt-get install -y socat)"], { stdio: "ignore", timeout: 240_000 })
    } catch (e) {
        return "socat is not installed and `apt-get install -y socat` failed: " + (e as Error).message
    }
    return haveSocat() ? null : "socat still missing after apt-get install"
}

const skipReason = ensureSocat()
if (skipReason) console.warn("SKIPPING serial end-to-end tests: " + skipReason)

const ROOT = join(__dirname, "..", "..")
const dir = mkdtempSync(join(tmpdir(), "bench-e2e-"))
const INSTR = join(dir, "instr")
const METER = join(dir, "meter")
const children: ChildProcess[] = []

function startSocat(): Promise<ChildProcess> {
    const p = spawn("socat", [`pty,raw,echo=0,link=${INSTR}`, `pty,raw,echo=0,link=${METER}`], { stdio: "ignore" })
    children.push(p)
    return waitFor(() => existsSync(INSTR) && existsSync(METER), 5000).then(() => p)
}

async function stopProcess(p: ChildProcess, signal: NodeJS.Signals) {
    if (p.exitCode !== null || p.signalCode !== null) return
    const exited = new Promise(res => p.once("exit", res))
    p.kill(signal)
    await exited
}

async function waitFor(cond: () => boolean, timeoutMs: number, what = "condition") {
    const t0 = Date.now()
    while (!cond()) {
        if (Date.now() - t0 > timeoutMs) throw new Error("timed out waiting for " + what)
        await new Promise(r => setTimeout(r, 20))
    }
}

class Recorder {
    out = ""
    proc: ChildProcess
    constructor(args: string[]) {
        this.proc = spawn(process.execPath, ["--import", "tsx", "tools/bench/cli.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] })
        children.push(this.proc)
        this.proc.stdout!.on("data", d => (this.out += d.toString()))
        this.proc.stderr!.on("data", d => (this.out += d.toString()))
    }
    readings(): number {
        const m = [...this.out.matchAll(/^reading (\d+)$/gm)]
        return m.length > 0 ? Number(m[m.length - 1][1]) : 0
    }
    connects(): number {
        return (this.out.match(/^status: (re)?connected/gm) ?? []).length
    }
}

async function openInstrument(): Promise<SerialPort> {
    const p = new SerialPort({ path: INSTR, baudRate: 9600, autoOpen: false })
    await new Promise<void>((res, rej) => p.open(e => (e ? rej(e) : res())))
    return p
}

const write = (p: SerialPort, s: string) => new Promise<void>((res, rej) => p.write(s, e => (e ? rej(e) : p.drain(() => res()))))
const closePort = (p: SerialPort) => new Promise<void>(res => (p.isOpen ? p.close(() => res()) : res()))

afterAll(async () => {
    for (const c of children) await stopProcess(c, "SIGKILL")
    rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(skipReason !== null)("bench recorder over a virtual serial port (socat)", () => {
    it("survives malformed lines and a disconnect, loses nothing on SIGKILL, resumes", async () => {
        const out = join(dir, "run")
        let socat = await startSocat()
        const args = ["--meter", `serial:${METER}`, "--protocol", "mt-sics", "--poll-ms", "0", "--rate", "25", "--duration", "600", "--out", out]
        const common = ["--no-progress", "--reconnect-ms", "150", "--stall-timeout-ms", "3000"]
        let rec = new Recorder([...args, ...common])
        await waitFor(() => rec.connects() >= 1, 15_000, "recorder to connect")
        let instr = await openInstrument()

        // Phase 1: 20 readings (0.0 .. 1.9 g) with 4 malformed lines among them.
        const sent: number[] = []
        const malformedLines = ["S S   12.3x45 g", "ES", "\u0000\u00ff garbage", "S S      1.0000 lb"]
        for (let i = 0; i < 20; i++) {
            const mg = i * 100 + 0.1 * i
            sent.push(mg)
            await write(instr, `S S ${(mg / 1000).toFixed(4).padStart(12)} g\r\n`)
            if (i % 5 === 4) await write(instr, malformedLines[(i - 4) / 5] + "\r\n")
        }
        await waitFor(() => rec.readings() >= 20, 10_000, "20 readings")

        // Phase 2: pull the link (socat dies, both ptys vanish), then bring it back.
        await closePort(instr)
        await stopProcess(socat, "SIGTERM")
        await waitFor(() => /status: (disconnected|no data|serial error|cannot open)/.test(rec.out), 10_000, "disconnect to be noticed")
        socat = await startSocat()
        await waitFor(() => rec.connects() >= 2, 15_000, "recorder to reconnect")
        instr = await openInstrument()
        for (let i = 20; i < 30; i++) {
            const mg = i * 100 + 0.1 * i
            sent.push(mg)
            await write(instr, `S S ${(mg / 1000).toFixed(4).padStart(12)} g\r\n`)
        }
        await waitFor(() => rec.readings() >= 30, 10_000, "30 readings")

        // Phase 3: the recorder is killed without warning. Every reading it reported is on disk.
        const reported = rec.readings()
        await stopProcess(rec.proc, "SIGKILL")
        const csv = join(out, "recording.csv")
        const afterKill = loadRecording(csv)
        const values = afterKill.samples.filter(s => s.kind === "mass_mg").map(s => s.value)
        expect(values.length).toBeGreaterThanOrEqual(reported)
        expect(values).toEqual(sent.slice(0, values.length))
        expect(values).toHaveLength(30)
        const text = readFileSync(csv, "utf8")
        expect((text.match(/^# malformed /gm) ?? []).length).toBe(4)
        expect(afterKill.samples.some(s => s.kind === "event" && s.note === "reconnected")).toBe(true)

        // Phase 4: resume the same recording, add readings, stop with Ctrl-C: report is written.
        rec = new Recorder(["--resume", "--out", out, ...common])
        await waitFor(() => rec.connects() >= 1, 15_000, "resumed recorder to connect")
        for (let i = 30; i < 35; i++) {
            const mg = i * 100 + 0.1 * i
            sent.push(mg)
            await write(instr, `S S ${(mg / 1000).toFixed(4).padStart(12)} g\r\n`)
        }
        await waitFor(() => rec.readings() >= 5, 10_000, "5 resumed readings")
        await stopProcess(rec.proc, "SIGINT")
        expect(rec.proc.exitCode).toBe(0)
        const final = loadRecording(csv)
        expect(final.samples.filter(s => s.kind === "mass_mg").map(s => s.value)).toEqual(sent)
        expect(existsSync(join(out, "report.html"))).toBe(true)
        expect(rec.out).toMatch(/recording covers/) // a 1-minute run is reported as incomplete, not analysed as 2 h
        await closePort(instr)
        await stopProcess(socat, "SIGTERM")
    }, 60_000)

    it("reads an SLF3x flow sensor through the SCC1 (SHDLC) protocol", async () => {
        const out = join(dir, "slf")
        const socat = await startSocat()
        const instr = await openInstrument()
        // The fake SCC1 answers every "get last measurement" (0x35) with 1000 µL/h at 24 °C and
        // every other command with an empty OK frame; one reply in four is corrupted.
        const dec = new ShdlcDecoder("mosi")
        let replies = 0
        instr.on("data", (chunk: Buffer) => {
            for (const f of dec.push(chunk).frames) {
                if (f.cmd !== 0x35) continue
                const frame = Buffer.from(slf3xMeasurementResponse(1000, 24, 0, "slf3s-0600f"))
                if (++replies % 4 === 0) frame[6] ^= 0xff
                instr.write(frame)
            }
        })
        const rec = new Recorder(["--meter", `serial:${METER}`, "--protocol", "scc1-slf3x", "--poll-ms", "50", "--rate", "1", "--duration", "600", "--out", out, "--no-progress"])
        await waitFor(() => rec.readings() >= 12, 15_000, "12 SLF3x readings").catch(e => {
            throw new Error(e.message + "; recorder said: " + rec.out.slice(-800) + " replies=" + replies)
        })
        await stopProcess(rec.proc, "SIGINT")
        const r = loadRecording(join(out, "recording.csv"))
        const flows = r.samples.filter(s => s.kind === "flow_ul_h")
        expect(flows.length).toBeGreaterThanOrEqual(12)
        // raw = round(1000/60 x 10) = 167 -> 16.7 µL/min = 1002 µL/h; temperature 24 °C
        for (const f of flows) {
            expect(f.value).toBe(1002)
            expect(f.tempC).toBe(24)
        }
        expect(readFileSync(join(out, "recording.csv"), "utf8")).toMatch(/# malformed .*checksum error/)
        await closePort(instr)
        await stopProcess(socat, "SIGTERM")
    }, 60_000)
})
