// HIL runner CLI: `npm run hil -- <scenario.json...> [--json] [--backend sim|host]
// [--board serial:/dev/ttyACM0]`. Prints a pass/fail table with measured figures (or JSON) and
// exits non-zero if any scenario fails or cannot run.

import { Command } from "commander"
import { evaluate, ScenarioResult } from "./evaluate"
import { runHostScenario } from "./host"
import { killAllChildren } from "./procs"
import { loadScenario, Scenario } from "./scenario"
import { forgetDevtoolsPid, runSimScenario, SimBus } from "./sim"
import { runBoardScenario } from "./board"

function table(results: ScenarioResult[]): string {
    const lines: string[] = []
    for (const r of results) {
        lines.push((r.pass ? "PASS" : "FAIL") + "  " + r.name.padEnd(30) + " " + r.backend.padEnd(5) + " wall " + String(r.wallS).padStart(6) + " s  " +
            (r.summary.simS !== undefined ? "sim " + r.summary.simS + " s, " + r.summary.state + (r.summary.alarm ? " " + r.summary.alarm : "") + ", infused " + r.summary.infusedUl + " µL, delivered " + r.summary.deliveredUl + " µL" : ""))
        if (r.error) lines.push("      ERROR " + r.error)
        for (const c of r.checks) lines.push("      " + (c.pass ? "ok  " : "FAIL") + " " + c.check.padEnd(24) + " " + c.measured)
    }
    const failed = results.filter(r => !r.pass).length
    lines.push("")
    lines.push(results.length - failed + "/" + results.length + " scenarios passed")
    return lines.join("\n")
}

async function main() {
    const program = new Command()
    program
        .name("hil")
        .argument("<scenarios...>", "scenario files (hil-tests/scenarios/*.json)")
        .option("--json", "print machine-readable results")
        .option("--backend <backend>", "sim | host (default: each scenario's own 'backend' field)")
        .option("--board <port>", "bench mode: run against a real board, e.g. serial:/dev/ttyACM0")
        .option("--rig <port>", "bench mode: serial port of the rig controller (default: same as --board)")
        .option("--ci", "run only the scenarios marked \"ci\": true (what npm test runs)")
        .option("--mutate <detector>", "deliberately blind one detector (air, door, occlusion, stall) to show its scenarios fail")
        .option("-v, --verbose", "print firmware and devtools output")
        .parse()
    const opts = program.opts<{ json?: boolean; backend?: string; board?: string; rig?: string; verbose?: boolean; mutate?: string; ci?: boolean }>()
    if (opts.backend && opts.backend !== "sim" && opts.backend !== "host") throw new Error("--backend must be sim or host")
    const scenarios: Scenario[] = program.args.map(f => loadScenario(f)).filter(s => !opts.ci || s.ci === true)
    // Libraries (jacdac-ts) print to console.log; keep stdout for the results alone.
    const quiet = (...a: unknown[]) => {
        if (opts.verbose) process.stderr.write(a.join(" ") + "\n")
    }
    console.log = quiet
    console.debug = quiet
    console.info = quiet
    const log = (l: string) => {
        if (opts.verbose) process.stderr.write(l + "\n")
    }
    const env: Record<string, string> = opts.verbose ? { HIL_VERBOSE: "1" } : {}
    const results: ScenarioResult[] = []
    let bus: SimBus | undefined
    const cleanup = async () => {
        if (bus) await bus.stop()
        bus = undefined
    }
    const onSignal = () => {
        killAllChildren()
        forgetDevtoolsPid()
        process.exit(130)
    }
    process.on("SIGINT", onSignal)
    process.on("SIGTERM", onSignal)
    process.on("exit", () => killAllChildren())
    try {
        for (const sc of scenarios) {
            const backend = opts.board ? "board" : (opts.backend ?? sc.backend)
            if (!opts.json) process.stderr.write("running " + sc.name + " (" + backend + ", " + sc.durationS + " s) ...\n")
            let r: ScenarioResult
            try {
                if (backend === "board") r = await runBoardScenario(sc, opts.board!, opts.rig ?? opts.board!, log)
                else if (backend === "host") r = runHostScenario(sc, opts.mutate)
                else {
                    if (!bus) {
                        bus = new SimBus()
                        await bus.start(log)
                    }
                    r = await runSimScenario(bus, sc, log, env, opts.mutate)
                }
            } catch (e) {
                r = evaluate(sc, { samples: [], program: { ok: false, reason: "" }, restarts: [], error: (e as Error).message }, backend, 0)
            }
            results.push(r)
            if (!opts.json) process.stderr.write((r.pass ? "  PASS" : "  FAIL") + "\n")
            if (opts.mutate && backend === "board") throw new Error("--mutate is for sim and host only")
        }
    } finally {
        await cleanup()
    }
    const text = opts.json ? JSON.stringify({ passed: results.filter(r => r.pass).length, total: results.length, results }, null, 2) : table(results)
    // Exit explicitly (the Jacdac bus library keeps timers alive), once stdout has drained.
    const code = results.every(r => r.pass) ? 0 : 1
    process.stdout.write(text + "\n", () => process.exit(code))
}

main().catch(e => {
    console.error("hil: " + (e as Error).message)
    killAllChildren()
    process.exit(2)
})
