// VM work of the persistent-log paths, in WASM instructions (deterministic, host-independent):
// builds src/vmbench/logCost.ts, runs it in the metered VM of the HIL runner and prints the
// instructions between its "LC " lines. Usage: npx tsx tools/benchLogCost.ts
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { createVm } from "../hil-tests/runner/vclock/vmLoader"

const ROOT = resolve(import.meta.dirname, "..")
execFileSync("npx", ["devs", "build", "src/vmbench/logCost.ts"], { cwd: ROOT, stdio: "ignore" })
const bytecode = readFileSync(join(ROOT, ".devicescript/bin/bytecode.devs"))
let nowMs = 0
const vm = await createVm({ nowMs: () => nowMs, random: out => out.fill(7) }, true)
let last = 0
let done = false
const totals: Record<string, { n: number; sum: number }> = {}
const onLine = (s: string) => {
    if (process.env.LC_ALL_LINES) console.log("> " + s)
    const i = s.indexOf("LC ")
    if (i < 0) return
    const n = vm.instructions!()
    const what = s.slice(i + 3)
    if (what === "END") done = true
    else if (what.startsWith("check")) console.log(what)
    else if (what !== "start") {
        const t = (totals[what] ??= { n: 0, sum: 0 })
        t.n++
        t.sum += n - last
    }
    last = n
}
vm.dmesg = onLine
vm.log = (...a: unknown[]) => onLine(a.join(" "))
vm.error = (...a: unknown[]) => console.error("VM error:", ...a)
vm.panicHandler = (code: number) => {
    if (code) console.error("VM panic " + code)
    done = true
}
vm.sendPacket = () => {}
vm.flashLoad = () => new Uint8Array(0)
vm.flashSave = () => {}
vm.devsGcStress(false)
vm.devsSetDeviceId("4c4f47434f535430")
if (vm.devsDeploy(bytecode)) throw new Error("deploy refused")
while (!done && nowMs < 60000) {
    const us = vm._jd_em_process()
    nowMs += Math.max(1, us / 1000)
}
for (const [k, t] of Object.entries(totals)) console.log(k.padEnd(14) + "x" + String(t.n).padEnd(4) + (t.sum / t.n / 1e6).toFixed(3) + " M WASM instructions each")
