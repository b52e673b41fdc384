// `npm run druglib -- <command>`: compile | check | sign | diff | keygen (docs/drug-library.md).

import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { Command } from "commander"
import { DrugLibrary } from "../../src/core/druglib/model"
import { parseLibrary } from "../../src/core/druglib/parse"
import { compileFile, Problem } from "./compile"
import { diffLibraries } from "./diff"
import { newKeyHex, nodeVerifier, readKeyFile, sign, split } from "./sign"
import { tsModule } from "./tsModule"

function printProblems(file: string, problems: Problem[]) {
    for (const p of problems) console.error("error: " + file + " " + p.path + ": " + p.message)
    console.error(problems.length + " error" + (problems.length === 1 ? "" : "s") + " in " + file)
}

function printWarnings(file: string, warnings: Problem[] | undefined) {
    for (const w of warnings ?? []) console.error("warning: " + file + " " + w.path + ": " + w.message)
}

function summary(lib: DrugLibrary, bytes: number): string {
    const entries = lib.careAreas.reduce((n, a) => n + a.drugs.length, 0)
    const drugs = new Set(lib.careAreas.flatMap(a => a.drugs)).size
    return "'" + lib.name + "' v" + lib.version + " (" + lib.date + "): " + lib.careAreas.length + " care areas (" +
        lib.careAreas.map(a => a.name + " " + a.drugs.length).join(", ") + "), " + entries + " entries, " + drugs + " drugs, " + bytes + " bytes compact"
}

/** Loads a library from JSON source, compact (.dlib) or signed compact (.sdlib) form. */
function load(file: string, keyFile?: string): DrugLibrary {
    if (file.endsWith(".json")) {
        const r = compileFile(file)
        if (r.errors.length > 0) {
            printProblems(file, r.errors)
            process.exit(1)
        }
        printWarnings(file, r.warnings)
        return r.library!
    }
    let body: Uint8Array = readFileSync(file)
    if (file.endsWith(".sdlib")) {
        const s = split(body)
        if (!s) fail(file + ": too short to hold a MAC")
        if (keyFile) {
            const v = nodeVerifier(keyOrFail(keyFile))
            if (!v.verify(s!.body, s!.mac)) fail(file + ": MAC does not verify with " + keyFile)
            console.log(file + ": MAC verifies")
        } else console.log(file + ": MAC not checked (no --key)")
        body = s!.body
    }
    const p = parseLibrary(body)
    if (!p.ok) fail(file + ": " + p.error)
    return p.library
}

function keyOrFail(path: string): Buffer {
    try {
        return readKeyFile(path)
    } catch (e) {
        fail((e as Error).message)
    }
}

function fail(msg: string): never {
    console.error("error: " + msg)
    process.exit(1)
}

const program = new Command()
program.name("druglib").description("Drug library tools for the reference syringe pump").showHelpAfterError()

program
    .command("compile")
    .description("check a JSON library and write the compact form the firmware loads")
    .argument("<source>", "library JSON (docs/drug-library.schema.json)")
    .option("-o, --out <file>", "compact output (.dlib)")
    .option("--ts <file>", "also write a TypeScript module holding the bytes (for the VM)")
    .action((source: string, opts: { out?: string; ts?: string }) => {
        const r = compileFile(source)
        if (r.errors.length > 0) {
            printProblems(source, r.errors)
            process.exit(1)
        }
        printWarnings(source, r.warnings)
        if (opts.out) writeFileSync(opts.out, r.bytes!)
        if (opts.ts) writeFileSync(opts.ts, tsModule({ library: r.bytes! }, "npm run druglib -- compile " + source))
        console.log(summary(r.library!, r.bytes!.length) + (opts.out ? " -> " + opts.out : ""))
    })

program
    .command("check")
    .description("check a library (JSON, .dlib or .sdlib) and print its summary; with --key verify the MAC")
    .argument("<file>")
    .option("--key <keyfile>", "device key file to verify a .sdlib")
    .action((file: string, opts: { key?: string }) => {
        const lib = load(file, opts.key)
        console.log("ok: " + summary(lib, -1).replace(", -1 bytes compact", ""))
    })

program
    .command("sign")
    .description("append HMAC-SHA256(device key, compact bytes) to a compact library")
    .argument("<compact>", "compact library (.dlib)")
    .requiredOption("--key <keyfile>", "per-device key file (64 hex digits; see keygen)")
    .requiredOption("-o, --out <file>", "signed output (.sdlib)")
    .action((compact: string, opts: { key: string; out: string }) => {
        const body = readFileSync(compact)
        const p = parseLibrary(body)
        if (!p.ok) fail(compact + ": refusing to sign a malformed library: " + p.error)
        const signed = sign(keyOrFail(opts.key), body)
        writeFileSync(opts.out, signed)
        console.log("signed " + compact + " (" + body.length + " bytes) -> " + opts.out + " (" + signed.length + " bytes)")
    })

program
    .command("diff")
    .description("show added/removed care areas and drugs and changed limits between two libraries")
    .argument("<old>")
    .argument("<new>")
    .action((a: string, b: string) => {
        const lines = diffLibraries(load(a), load(b))
        for (const l of lines) console.log(l.kind.padEnd(8) + l.where + (l.detail ? ": " + l.detail : ""))
        console.log(lines.length + " difference" + (lines.length === 1 ? "" : "s"))
    })

program
    .command("keygen")
    .description("create a random 32-byte device key file (provision it into the pump, keep it out of git)")
    .requiredOption("-o, --out <file>")
    .action((opts: { out: string }) => {
        if (existsSync(opts.out)) fail(opts.out + " exists; refusing to overwrite a device key")
        writeFileSync(opts.out, newKeyHex() + "\n", { mode: 0o600 })
        console.log("wrote " + opts.out)
    })

program.parse()
