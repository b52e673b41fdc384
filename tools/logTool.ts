// `npm run log -- export <files...> [-o out.csv]`: merge exported LOG lines from many pumps into
// one CSV (pump, seq, boot, time, kind, detail).
// `npm run log -- trend <files...> [--csv]`: alarms per 100 infusion hours by code, per pump and
// for the fleet. Garbled lines are reported on stderr with file:line and reason, never guessed.
import { readInput, writeOutput } from "./cliFs"
import { Command } from "commander"
import { mergeLogs, recordsCsv, trendCsv, trendRows, trendTable } from "./logAnalysis"

function read(f: string): string {
    const r = readInput(f)
    if (r.ok) return r.data!.toString("utf8")
    console.error("error: " + r.reason)
    process.exit(2)
}

function load(files: string[]) {
    const m = mergeLogs(files.map(f => ({ source: f, text: read(f) })))
    for (const r of m.rejected) console.error(`rejected ${r.source}:${r.line}: ${r.reason}`)
    for (const c of m.conflicts) console.error(`conflict ${c.source}:${c.line}: ${c.reason}`)
    let n = 0
    for (const recs of m.pumps.values()) n += recs.length
    console.error(
        `${n} records from ${m.pumps.size} pump(s); ${m.duplicates} duplicate(s) merged, ${m.rejected.length} line(s) rejected, ${m.conflicts.length} conflict(s), ${m.ignored} non-LOG line(s) skipped`
    )
    // No table from nothing: every input garbage (or no LOG line at all) is an error.
    if (n === 0) {
        console.error("error: no valid LOG record in the input")
        process.exit(1)
    }
    return m
}

/** Exit status after the output: 1 if copies of a record disagreed (their records were left out). */
function finish(m: ReturnType<typeof load>) {
    if (m.conflicts.length > 0) {
        console.error(`error: ${m.conflicts.length} conflicting copy/copies: those records were left out (see the warnings); the log is checksummed, not authenticated, so which copy is genuine cannot be told`)
        process.exitCode = 1
    }
}

const program = new Command()
program.name("log").description("Pump event log export and trend analysis")
program
    .command("export")
    .argument("<files...>", "captured console/serial output containing LOG lines")
    .option("-o, --out <file>", "write CSV here instead of stdout")
    .action((files: string[], opts: { out?: string }) => {
        const m = load(files)
        const csv = recordsCsv(m)
        if (opts.out) {
            const w = writeOutput(opts.out, csv)
            if (w) {
                console.error("error: " + w)
                process.exit(2)
            }
        } else process.stdout.write(csv)
        finish(m)
    })
program
    .command("trend")
    .argument("<files...>", "captured console/serial output containing LOG lines")
    .option("--csv", "print CSV instead of a table")
    .action((files: string[], opts: { csv?: boolean }) => {
        const m = load(files)
        const rows = trendRows(m)
        process.stdout.write(opts.csv ? trendCsv(rows) : trendTable(m, rows) + "\n")
        finish(m)
    })
program.parse()
