// Core benchmark (`npm run bench:core`): prints figures, asserts nothing.
//  1. Simulated infusion hours per wall-clock second for the pure dosing core on Node
//     (virtual clock, CONTROL_PERIOD_MS ticks); target: 24 h at 1 mL/h in under 1 s on one core.
//  2. Cost of one control tick inside the DeviceScript VM (src/vmbench/tick.ts in the simulator).
//  3. Firmware bytecode size per entry point (`devs build --stats`).
import { execFileSync } from "node:child_process"
import { statSync } from "node:fs"
import { EventLog } from "../src/core/eventLog"
import { CONTROL_PERIOD_MS, PumpController, REFERENCE_PUMP_CONFIG } from "../src/core/pump"

function simulate(rateUlPerH: number, hours: number): { wallMs: number; infusedUl: number; ticks: number } {
    const pump = new PumpController(REFERENCE_PUMP_CONFIG, new EventLog(64))
    pump.loadProgram(0, { syringeId: "bd-plastipak-50", rateUlPerH, vtbiUl: 50000, kvoRateUlPerH: 0, bolusUl: 0, bolusDurationS: 0 })
    pump.start(0)
    const end = hours * 3600_000
    const t0 = performance.now()
    let ticks = 0
    for (let t = 0; t <= end; t += CONTROL_PERIOD_MS) {
        pump.update(t)
        ticks++
    }
    return { wallMs: performance.now() - t0, infusedUl: pump.status().infusedUl, ticks }
}

console.log(`== dosing core on Node (virtual clock, ${CONTROL_PERIOD_MS} ms ticks) ==`)
simulate(1000, 1) // warm-up
for (const [rate, hours] of [[1000, 24], [25000, 2], [1200000, 0.04]] as const) {
    const r = simulate(rate, hours)
    const perSecond = hours / (r.wallMs / 1000)
    console.log(
        `rate ${(rate / 1000).toFixed(1).padStart(7)} mL/h: ${hours} h simulated in ${r.wallMs.toFixed(0)} ms ` +
            `(${perSecond.toFixed(0)} infusion-h per wall-s, ${((r.wallMs * 1e6) / r.ticks).toFixed(0)} ns/tick), infused ${r.infusedUl} µL`
    )
}
const day = simulate(1000, 24)
console.log(`24 h at 1 mL/h: ${day.wallMs.toFixed(0)} ms (target < 1000 ms: ${day.wallMs < 1000 ? "met" : "NOT met"})`)

console.log("\n== control tick inside the DeviceScript VM ==")
try {
    const out = execFileSync("npx", ["devs", "run", "src/vmbench/tick.ts", "--test", "--test-self-exit", "--test-timeout", "60000"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
    })
    for (const line of out.split("\n")) if (line.includes("BENCH")) console.log(line.replace(/\x1b\[[0-9;]*m/g, "").replace(/^WASM> /, ""))
} catch (e) {
    console.log("VM benchmark failed: " + (e as Error).message)
}

console.log("\n== firmware bytecode size (devs build --stats) ==")
for (const entry of ["src/entries/sim.ts", "src/entries/esp32s3.ts", "src/entries/rp2040.ts"]) {
    try {
        const out = execFileSync("npx", ["devs", "build", entry, "--stats"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
        const line = out.split("\n").find(l => l.startsWith("bytecode:")) ?? "?"
        const size = statSync(".devicescript/bin/bytecode.devs").size
        console.log(`${entry.padEnd(22)} ${line.trim()} (${size} bytes in bytecode.devs)`)
    } catch (e) {
        console.log(`${entry.padEnd(22)} build failed: ${(e as Error).message.split("\n")[0]}`)
    }
}
