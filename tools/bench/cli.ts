// Bench test tool (`npm run bench -- ...`): records delivered volume from a balance, a flow
// meter, the pump's own log, a CSV file or the simulator, and writes an IEC 60601-2-24 style
// report. See README.md ("Bench testing") for usage and docs/bench-testing.md for the method.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Command, InvalidArgumentError, Option } from "commander"
import cliProgress from "cli-progress"
import { analyse, AnalysisOptions, DEFAULT_ANALYSIS } from "./analysis"
import { importFile } from "./importers"
import { writeReport } from "./report"
import { BenchSample, loadRecording, RecordingMeta, RecordingWriter } from "./samples"
import { SerialProtocol, SerialSource } from "./serialSource"
import { PLANT_BALANCE_DENSITY, PLANT_NAME, runSim, syringeCapacityMl } from "./sim"
import { SLF3X_MODELS } from "./protocols"

const num = (name: string) => (v: string) => {
    const n = Number(v)
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`)
    return n
}
const positive = (name: string) => (v: string) => {
    const n = num(name)(v)
    if (!(n > 0)) throw new InvalidArgumentError(`${name} must be > 0`)
    return n
}

interface CommonOpts {
    temp: number
    density?: number
    evaporation: number
    buoyancy: boolean
    sampleS: number
    periodMin: number
    bolusWindowS: number
}

function addAnalysisOptions(c: Command): Command {
    return c
        .option("--temp <degC>", "water temperature for the density correction (if the instrument reports none)", num("--temp"), 20)
        .option("--density <g/mL>", "liquid density if not water (default: water at --temp / the sensor temperature)", positive("--density"))
        .option("--evaporation <mg/h>", "evaporation loss measured before the run, added back", num("--evaporation"), 0)
        .option("--buoyancy", "apply the air-buoyancy correction to balance readings", false)
        .option("--sample-s <s>", "sample interval S", positive("--sample-s"), 30)
        .option("--period-min <min>", "test period T (the analysis period is its last hour)", positive("--period-min"), 120)
        .option("--bolus-window-s <s>", "post-occlusion bolus collection time", positive("--bolus-window-s"), 60)
}

function analysisOptions(rate: number, o: CommonOpts, meta?: RecordingMeta): AnalysisOptions {
    const metaDensity = meta && typeof meta.liquidDensityGPerMl === "number" ? meta.liquidDensityGPerMl : null
    return {
        ...DEFAULT_ANALYSIS,
        liquidDensityGPerMl: o.density ?? metaDensity,
        rateMlPerH: rate,
        sampleIntervalMin: o.sampleS / 60,
        periodMin: o.periodMin,
        analysisMin: Math.min(60, o.periodMin),
        waterTempC: o.temp,
        evaporationMgPerH: o.evaporation,
        airBuoyancy: o.buoyancy,
        bolusWindowS: o.bolusWindowS,
    }
}

/** Analyses a recording file and writes the report next to it (or into `outDir`). */
export async function analyseFile(csv: string, outDir: string | undefined, o: CommonOpts, rateOverride?: number, quiet = false) {
    const rec = loadRecording(csv)
    const rate = rateOverride ?? rec.meta.rateMlPerH
    const a = analyse(rec.samples, analysisOptions(rate, o, rec.meta), rec.meta)
    // Never write a report from invalid data: say why and fail (exit 2 via the caller).
    const refused = rec.problems.concat(a.refused)
    if (refused.length > 0) throw new Error(`no report for ${csv}: ` + refused.join("; "))
    const malformedCount = countComments(csv, "# malformed ")
    const stats: Record<string, number | string> = {
        "Malformed instrument lines": malformedCount,
        "Unreadable CSV rows": rec.badRows,
        "Reconnects": rec.samples.filter(s => s.kind === "event" && s.note === "reconnected").length,
    }
    const plant = readFileSync(csv, "utf8").split("\n").find(l => l.startsWith("# plant "))
    if (plant) stats["Plant model"] = plant.slice("# plant ".length)
    if (typeof rec.meta.syringe === "string") stats["Syringe"] = `${rec.meta.syringe} (${syringeCapacityMl(rec.meta.syringe).toFixed(1)} mL)`
    const dir = outDir ?? dirname(csv)
    const files = await writeReport(dir, a, rec.meta, stats)
    if (!quiet) printSummary(a, files)
    return { analysis: a, files }
}

function countComments(csv: string, prefix: string): number {
    const text = readFileSync(csv, "utf8")
    let n = 0
    for (const l of text.split("\n")) if (l.startsWith(prefix)) n++
    return n
}

function printSummary(a: ReturnType<typeof analyse>, files: string[]) {
    console.log(`\nRate ${a.options.rateMlPerH} mL/h, ${a.recordedMin.toFixed(1)} min recorded, ${a.sampleCount} readings`)
    if (a.overallAccuracyPct !== null) console.log(`Overall accuracy (second hour): ${a.overallAccuracyPct.toFixed(2)} %  (mean ${a.meanFlowMlPerH!.toFixed(4)} mL/h)`)
    for (const t of a.trumpet) console.log(`  P=${String(t.windowMin).padStart(2)} min  Ep(max) ${t.maxPct.toFixed(2).padStart(7)} %  Ep(min) ${t.minPct.toFixed(2).padStart(7)} %`)
    for (const o of a.occlusions)
        console.log(`Occlusion: time to alarm ${o.timeToAlarmS === null ? "NO ALARM" : o.timeToAlarmS.toFixed(1) + " s"}, bolus ${o.bolusUl === null ? "n/a" : o.bolusUl.toFixed(1) + " µL"}`)
    for (const w of a.warnings) console.log("warning: " + w)
    console.log("Report: " + files.find(f => f.endsWith(".html")))
    for (const f of files) console.log("  " + f)
}

function makeProgress(enabled: boolean, totalMin: number) {
    if (!enabled) return null
    const bar = new cliProgress.SingleBar(
        {
            format: " {bar} {percentage}% | {value}/{total} min | {readings} readings | {malformed} malformed | {status}",
            noTTYOutput: true,
            notTTYSchedule: 10_000,
            hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
    )
    bar.start(Math.round(totalMin), 0, { readings: 0, malformed: 0, status: "" })
    return bar
}

interface RecordOpts extends CommonOpts {
    meter?: string
    sim?: boolean
    rate?: number
    duration: number
    out?: string
    resume?: boolean
    protocol: string
    baud?: number
    pollMs: number
    sir: boolean
    slfModel: string
    reconnectMs: number
    stallTimeoutMs: number
    progress: boolean
    syringe: string
    simInstrument: "balance" | "flowmeter"
    seed: number
    occlusion: boolean
}

async function record(o: RecordOpts) {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)
    let outDir = o.out
    let writer: RecordingWriter
    let meta: RecordingMeta
    if (o.resume) {
        if (!outDir) throw new Error("--resume needs --out <dir> of the interrupted run")
        const csv = join(outDir, "recording.csv")
        if (!existsSync(csv)) throw new Error(`${csv} not found: nothing to resume`)
        const peek = loadRecording(csv).meta
        if (!String(peek.source).startsWith("serial:"))
            throw new Error(`only instrument recordings are resumed; ${peek.source} is regenerated or re-imported: run it again with a new --out`)
        const r = RecordingWriter.resume(csv)
        writer = r.writer
        meta = r.loaded.meta
        if (o.rate !== undefined && o.rate !== meta.rateMlPerH) throw new Error(`--rate ${o.rate} differs from the recording's ${meta.rateMlPerH} mL/h`)
        console.log(`Resuming ${csv}: ${r.loaded.samples.length} samples kept${r.loaded.badRows ? `, ${r.loaded.badRows} torn row(s) ignored` : ""}`)
    } else {
        if (o.rate === undefined) throw new Error("--rate <mL/h> is required")
        if (!o.sim && !o.meter) throw new Error("give --meter <source> or --sim")
        const sourceName = o.sim ? `sim:${o.simInstrument}` : o.meter!
        outDir = outDir ?? join("reports", `bench-${stamp}-${o.rate}mlh${o.sim ? "-sim" : ""}`)
        mkdirSync(outDir, { recursive: true })
        meta = {
            rateMlPerH: o.rate,
            source: sourceName,
            protocol: o.meter?.startsWith("serial:") ? o.protocol : undefined,
            serial: o.meter?.startsWith("serial:") ? { baud: o.baud ?? (o.protocol === "scc1-slf3x" ? 115200 : 9600), pollMs: o.pollMs, sir: o.sir, slfModel: o.slfModel } : undefined,
            startedEpochMs: Date.now(),
            durationMin: o.duration,
        }
        if (o.sim) {
            meta.syringe = o.syringe
            // The simulated balance weighs the plant's liquid: analyse with the plant's density.
            meta.plant = PLANT_NAME
            meta.liquidDensityGPerMl = PLANT_BALANCE_DENSITY
            const need = (o.rate * o.duration) / 60
            const cap = syringeCapacityMl(o.syringe)
            if (need > cap * 0.99)
                console.warn(
                    `warning: ${o.duration} min at ${o.rate} mL/h needs ${need.toFixed(1)} mL; the ${o.syringe} holds ${cap.toFixed(1)} mL: ` +
                        `the pump will stop on its syringe-empty alarm before the end, and the report will show it`,
                )
        }
        writer = RecordingWriter.create(join(outDir, "recording.csv"), meta, !o.sim)
    }
    const csvPath = writer.path
    const logPath = join(outDir!, "recorder.log")
    const log = (msg: string) => appendFileSync(logPath, new Date().toISOString() + " " + msg + "\n")
    let malformed = 0
    let readings = 0
    const source = o.resume ? meta.source : o.sim ? "sim" : o.meter!

    if (source === "sim" || source.startsWith("sim:")) {
        const bar = makeProgress(o.progress, o.duration)
        const run = await runSim(
            {
                rateMlPerH: o.rate!,
                durationMin: o.duration,
                syringeId: o.syringe,
                instrument: o.simInstrument,
                readEveryMs: 1000,
                seed: o.seed,
                occlusion: o.occlusion,
            },
            s => writer.append(s),
            t => bar?.update(Math.floor(t / 60_000), { readings: writer.count, malformed: 0, status: "simulating" }),
        )
        bar?.stop()
        writer.comment(`plant ${run.plantName}`)
        writer.close()
        console.log(`Simulated ${o.duration} min with ${run.plantName}: ${run.samples} readings`)
        for (const a of run.alarms) console.log(`  firmware alarm ${a.code} at ${(a.tMs / 60_000).toFixed(2)} min`)
        await analyseFile(csvPath, outDir, o, undefined, false)
        return
    }

    if (source.startsWith("pumplog:") || source.startsWith("csv:")) {
        const kind = source.startsWith("pumplog:") ? "pumplog" : "csv"
        const imp = importFile(kind, source.slice(kind.length + 1))
        for (const s of imp.samples) writer.append(s)
        for (const m of imp.malformed) {
            writer.comment(`malformed line=${m.line} reason=${m.reason} raw=${JSON.stringify(m.raw)}`)
            log(`line ${m.line}: ${m.reason}: ${JSON.stringify(m.raw)}`)
        }
        writer.close()
        console.log(`Imported ${imp.samples.length} samples from ${source} (${imp.malformed.length} malformed lines)`)
        await analyseFile(csvPath, outDir, o, undefined, false)
        return
    }

    if (!source.startsWith("serial:")) throw new Error(`unknown source '${source}': use serial:<path>, pumplog:<file>, csv:<file> or --sim`)
    // A resumed run talks to the instrument the way the original run did.
    const saved = (o.resume ? meta.serial : undefined) as { baud?: number; pollMs: number; sir: boolean; slfModel: string } | undefined
    const protocol = (o.resume ? meta.protocol : o.protocol) as SerialProtocol
    if (!["mt-sics", "sartorius-sbi", "scc1-slf3x", "pumplog"].includes(protocol)) throw new Error(`unknown protocol ${protocol}`)
    const slfModel = saved ? saved.slfModel : o.slfModel
    const baud = o.baud ?? saved?.baud ?? (protocol === "scc1-slf3x" ? 115200 : 9600)
    const startedEpoch = meta.startedEpochMs
    const endMs = o.duration * 60_000
    const bar = makeProgress(o.progress, o.duration)
    let status = ""
    let done: () => void = () => {}
    const finished = new Promise<void>(res => (done = res))
    const now = () => Date.now() - startedEpoch
    let lastReadingMs = -1
    const serial = new SerialSource(
        {
            path: source.slice("serial:".length),
            baudRate: baud,
            protocol,
            pollMs: saved ? saved.pollMs : o.pollMs,
            mtSicsRepeat: saved ? saved.sir : o.sir,
            slfModel,
            reconnectMs: o.reconnectMs,
            stallTimeoutMs: o.stallTimeoutMs,
        },
        {
            reading(p) {
                // Arrival time, strictly increasing: lines that arrive in one burst (e.g. buffered
                // while the link was down) would otherwise share a millisecond, which the analysis
                // rightly refuses as two different readings at one instant. The shift is at most
                // the burst length in ms, far below the instrument's own sample period.
                let t = now()
                if (t <= lastReadingMs) t = lastReadingMs + 1
                lastReadingMs = t
                if (p.kind === "event") writer.append({ tMs: t, kind: "event", value: NaN, tempC: NaN, note: p.event })
                else {
                    writer.append({ tMs: t, kind: p.kind, value: p.value, tempC: p.tempC, note: "" })
                    readings++
                    if (p.event) writer.append({ tMs: t, kind: "event", value: NaN, tempC: NaN, note: p.event })
                }
                // Printed after the fsync: a reading reported here is on disk.
                if (!o.progress) process.stdout.write(`reading ${readings}\n`)
                bar?.update(Math.min(o.duration, Math.floor(t / 60_000)), { readings, malformed, status })
                if (t >= endMs) done()
            },
            malformed(reason, raw) {
                malformed++
                if (!o.progress) console.log(`malformed ${malformed}: ${reason}`)
                writer.comment(`malformed t=${now()} reason=${reason} raw=${JSON.stringify(raw)}`)
                log(`malformed: ${reason}: ${JSON.stringify(raw)}`)
            },
            status(message) {
                status = message
                log(message)
                if (message.startsWith("reconnected")) writer.append({ tMs: now(), kind: "event", value: NaN, tempC: NaN, note: "reconnected" })
                if (message.startsWith("disconnected") || message.startsWith("no data")) writer.append({ tMs: now(), kind: "event", value: NaN, tempC: NaN, note: "disconnected" })
                if (!o.progress) console.log("status: " + message)
            },
        },
    )
    const stop = () => done()
    process.on("SIGINT", stop)
    process.on("SIGTERM", stop)
    const timer = setInterval(() => {
        bar?.update(Math.min(o.duration, Math.floor(now() / 60_000)), { readings, malformed, status })
        if (now() >= endMs) done()
    }, 1000)
    serial.start()
    await finished
    clearInterval(timer)
    await serial.stop()
    bar?.stop()
    writer.close()
    process.off("SIGINT", stop)
    process.off("SIGTERM", stop)
    console.log(`Recorded ${readings} readings (${writer.count} rows in the file), ${malformed} malformed lines, ${serial.disconnects} disconnects -> ${csvPath}`)
    await analyseFile(csvPath, outDir, o, undefined, false)
}

export function buildProgram(): Command {
    const program = new Command()
    program.name("bench").description("Bench accuracy test of an infusion pump per IEC 60601-2-24 (start-up and trumpet curves)")
    addAnalysisOptions(
        program
            .command("record", { isDefault: true })
            .description("record from an instrument (or the simulator), then analyse and write the report")
            .option("--meter <source>", "serial:<path> | pumplog:<file> | csv:<file>")
            .option("--sim", "simulate: real dosing core + plant model on a virtual clock")
            .option("--rate <mL/h>", "set rate of the pump under test", positive("--rate"))
            .option("--duration <min>", "recording length", positive("--duration"), 120)
            .option("--out <dir>", "output directory (default reports/bench-<time>-<rate>)")
            .option("--resume", "continue the interrupted recording in --out")
            .addOption(new Option("--protocol <p>", "serial protocol").choices(["mt-sics", "sartorius-sbi", "scc1-slf3x", "pumplog"]).default("mt-sics"))
            .option("--baud <n>", "serial baud rate (default: 115200 for scc1-slf3x, else 9600)", positive("--baud"))
            .option("--poll-ms <ms>", "ask the instrument for a reading this often (0: it streams)", num("--poll-ms"), 1000)
            .option("--sir", "MT-SICS: send SIR once (balance repeats) instead of polling SI", false)
            .addOption(new Option("--slf-model <m>", "SLF3x model (flow scale factor)").choices(Object.keys(SLF3X_MODELS)).default("slf3s-0600f"))
            .option("--reconnect-ms <ms>", "delay between reconnect attempts", positive("--reconnect-ms"), 1000)
            .option("--stall-timeout-ms <ms>", "reopen the port after this long without data", positive("--stall-timeout-ms"), 10_000)
            .option("--no-progress", "plain log lines instead of a progress bar")
            .option("--syringe <id>", "simulated syringe", "bd-plastipak-50")
            .addOption(new Option("--sim-instrument <i>", "simulated instrument").choices(["balance", "flowmeter"]).default("balance"))
            .option("--seed <n>", "simulation noise seed", num("--seed"), 1)
            .option("--occlusion", "simulation: add an occlusion test after the accuracy run", false),
    ).action(async (opts: RecordOpts) => record(opts))
    addAnalysisOptions(
        program
            .command("analyse <csv>")
            .alias("analyze")
            .description("re-analyse a recording and rewrite its report")
            .option("--out <dir>", "report directory (default: next to the recording)")
            .option("--rate <mL/h>", "override the set rate stored in the recording", positive("--rate")),
    ).action(async (csv: string, opts: CommonOpts & { out?: string; rate?: number }) => {
        await analyseFile(csv, opts.out, opts, opts.rate)
    })
    return program
}

const isMain = process.argv[1] && /tools[\\/]bench[\\/]cli\.ts$/.test(process.argv[1])
if (isMain) {
    buildProgram()
        .parseAsync(process.argv)
        .catch(e => {
            console.error("bench: " + (e as Error).message)
            process.exit(2)
        })
}

export type { BenchSample }
