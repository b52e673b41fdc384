// `npm run bench:remote`: control-tick timing under a remote packet flood, measured in the
// DeviceScript simulator VM (src/vmbench/remote.ts). Prints figures; asserts nothing.
import { execFileSync } from "node:child_process"

const out = execFileSync("npx", ["devs", "run", "src/vmbench/remote.ts", "--test", "--test-self-exit", "--test-timeout", "60000"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
})
for (const line of out.split("\n")) if (line.includes("BENCH")) console.log(line.replace(/\x1b\[[0-9;]*m/g, "").replace(/^WASM> /, ""))
