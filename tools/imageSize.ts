// `npm run size`: builds the four firmware images and prints, per image, where its function
// bytecode ends against the VM verifier's 0x10000 limit (tools/devsImage.ts), the margin left,
// the function count and descriptor bytes, and the source files with the most function bytes.
//   npm run size                      build sim, esp32s3, rp2040, hil and report
//   npm run size -- --no-build        report the images the last `npm run size` saved
//   npm run size -- --entries esp32s3,rp2040 --fail-under 0
//                                     (npm test's build:boards step) build those, exit 1 when any
//                                     margin is below the given bytes, naming the margin
// Builds are copied to .devicescript/size/<entry>.devs and <entry>-dbg.json (devs build always
// writes .devicescript/bin/, so each build overwrites the previous one there).
import { execFileSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Command } from "commander"
import { bytesPerSource, FUNCTION_END_LIMIT, measureImage } from "./devsImage"

const BIN = ".devicescript/bin"
const SAVED = ".devicescript/size"

const program = new Command()
    .option("--entries <list>", "comma-separated entries under src/entries", "sim,esp32s3,rp2040,hil")
    .option("--no-build", "report the images saved by the last run instead of building")
    .option("--top <n>", "source files listed per image", "8")
    .option("--fail-under <bytes>", "exit 1 if any image's margin is below this many bytes")
    .parse()
const opts = program.opts<{ entries: string; build: boolean; top: string; failUnder?: string }>()

/** Builds one entry; when the verifier refuses it, rebuilds without verification so the
 *  oversize image can still be measured (the caller then fails with its margin). */
function build(entry: string): { verified: boolean; log: string } {
    const src = `src/entries/${entry}.ts`
    try {
        const out = execFileSync("npx", ["devs", "build", src, "--quiet"], { encoding: "utf8", stdio: "pipe" })
        return { verified: true, log: out }
    } catch (e) {
        const err = e as { stdout?: string; stderr?: string }
        const log = (err.stdout ?? "") + (err.stderr ?? "")
        execFileSync("npx", ["devs", "build", src, "--quiet", "--no-verify"], { encoding: "utf8", stdio: "pipe" })
        return { verified: false, log }
    }
}

mkdirSync(SAVED, { recursive: true })
const failures: string[] = []
for (const entry of opts.entries.split(",")) {
    let verified = true
    if (opts.build) {
        const b = build(entry)
        verified = b.verified
        if (!verified) console.log(`devs build ${entry} failed verification:\n${b.log.trim()}`)
        copyFileSync(join(BIN, "bytecode.devs"), join(SAVED, `${entry}.devs`))
        copyFileSync(join(BIN, "bytecode-dbg.json"), join(SAVED, `${entry}-dbg.json`))
    }
    const imagePath = join(SAVED, `${entry}.devs`)
    if (!existsSync(imagePath)) {
        failures.push(`${entry}: no saved image (run without --no-build)`)
        continue
    }
    const m = measureImage(readFileSync(imagePath))
    const limit = FUNCTION_END_LIMIT - 1
    console.log(
        `${entry.padEnd(8)} functions end at ${m.functionsEnd} of ${limit} (0xffff): margin ${m.marginBytes} B; ` +
            `${m.functionCount} functions, descriptors ${m.descriptorBytes} B + code ${m.codeBytes} B = ` +
            `${m.descriptorBytes + m.codeBytes} B; image ${m.imageBytes} B`
    )
    const dbg = JSON.parse(readFileSync(join(SAVED, `${entry}-dbg.json`), "utf8"))
    for (const s of bytesPerSource(dbg).slice(0, Number(opts.top))) console.log(`    ${String(s.bytes).padStart(6)} ${s.path}`)
    if (m.marginBytes < 0) failures.push(`${entry}: function bytecode is ${-m.marginBytes} B over the VM limit (margin ${m.marginBytes} B)`)
    else if (opts.failUnder !== undefined && m.marginBytes < Number(opts.failUnder))
        failures.push(`${entry}: margin ${m.marginBytes} B is below the required ${opts.failUnder} B`)
    else if (!verified) failures.push(`${entry}: devs build failed verification (margin ${m.marginBytes} B; see its log above)`)
}
if (failures.length > 0) {
    for (const f of failures) console.error("IMAGE SIZE FAIL " + f)
    process.exit(1)
}
