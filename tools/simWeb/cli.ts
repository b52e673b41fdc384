// `npm run sim:web [-- --port 8080 --speed 1|10|max --program bd50-25]`: the pump in a browser.
import { Command } from "commander"
import { PROGRAMS, Speed, SPEEDS } from "./engine"
import { startSimWeb } from "./server"

const cmd = new Command()
    .name("sim:web")
    .description("Serve the simulated pump (the real HIL firmware bytecode on the vclock VM with the plant) on 127.0.0.1")
    .option("--port <n>", "TCP port on 127.0.0.1 (0 = any free port)", "8080")
    .option("--speed <s>", "1 (real time), 10 or max; also on the page", "1")
    .option("--program <id>", "program loaded at boot: " + PROGRAMS.map(p => p.id).join(", "), PROGRAMS[0].id)
    .option("-v, --verbose", "print the runner's log")
    .parse()
const opt = cmd.opts<{ port: string; speed: string; program: string; verbose?: boolean }>()
const port = Number(opt.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) cmd.error("--port must be 0..65535")
const speed = (opt.speed === "max" ? "max" : Number(opt.speed)) as Speed
if (SPEEDS.indexOf(speed) < 0) cmd.error("--speed must be one of " + SPEEDS.join(", "))
if (!PROGRAMS.some(p => p.id === opt.program)) cmd.error("--program must be one of " + PROGRAMS.map(p => p.id).join(", "))

const srv = await startSimWeb({
    port,
    speed,
    programId: opt.program,
    log: l => {
        if (opt.verbose || l.startsWith("sim:web") || l.startsWith("vclock")) console.error(l)
    },
}).catch(e => {
    console.error("sim:web: " + (e as Error).message)
    process.exit(1)
})
console.log("sim:web: open " + srv.url + "  (Ctrl-C stops)")
const stop = () => {
    void srv.close().then(() => process.exit(0))
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
