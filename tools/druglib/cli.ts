// `npm run druglib -- <command>`: compile | check | sign | embed | diff | keygen (docs/drug-library.md).

import { existsSync } from "node:fs"
import { Command } from "commander"
import { DrugLibrary } from "../../src/core/druglib/model"
import { parseLibrary } from "../../src/core/druglib/parse"
import { looksLikeJson, readInput, writeOutput } from "../cliFs"
import { compileText, Problem } from "./compile"
import { diffLibraries } from "./diff"
import { BOARD_LIBRARY_MODULE, boardLibraryModule, embedProblem } from "./embed"
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

interface Loaded {
    lib: DrugLibrary
    /** What was checked, and what was not (printed by `check`). */
    verified: string[]
    notVerified: string[]
}

function readOrFail(file: string): Buffer {
    const r = readInput(file)
    if (!r.ok) fail(r.reason)
    return r.data!
}

/** Loads a library from JSON source, compact (.dlib) or signed compact (.sdlib) form. JSON is
 *  recognised by its content, whatever the extension's case. With `keyFile`, a library whose
 *  MAC cannot be verified (unsigned, or not verifying) is an error. */
function load(file: string, keyFile?: string): Loaded {
    const data = readOrFail(file)
    if (looksLikeJson(data)) {
        if (keyFile) fail(file + " is library JSON source: it has no MAC to verify with --key (compile and sign it first)")
        const r = compileText(data.toString("utf8"))
        if (r.errors.length > 0) {
            printProblems(file, r.errors)
            process.exit(1)
        }
        printWarnings(file, r.warnings)
        return { lib: r.library!, verified: ["JSON schema", "limits and units", "reference ranges"], notVerified: ["MAC (JSON source is not signed)"] }
    }
    let body: Uint8Array = data
    const verified: string[] = []
    const notVerified: string[] = []
    if (file.toLowerCase().endsWith(".sdlib")) {
        const s = split(body)
        if (!s) fail(file + ": too short to hold a MAC")
        if (keyFile) {
            const v = nodeVerifier(keyOrFail(keyFile))
            if (!v.verify(s!.body, s!.mac)) fail(file + ": MAC does not verify with " + keyFile)
            verified.push("MAC with " + keyFile)
        } else notVerified.push("MAC (no --key given)")
        body = s!.body
    } else {
        // An unsigned compact library: nothing to verify a key against.
        if (keyFile) fail(file + " is an unsigned compact library (.dlib): --key cannot verify it; check the signed .sdlib")
        notVerified.push("MAC (unsigned compact library)")
    }
    const p = parseLibrary(body)
    if (!p.ok) fail(file + ": " + p.error)
    verified.unshift("firmware parser (structure and limits)")
    return { lib: p.library, verified, notVerified }
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
        const r = compileText(readOrFail(source).toString("utf8"))
        if (r.errors.length > 0) {
            printProblems(source, r.errors)
            process.exit(1)
        }
        printWarnings(source, r.warnings)
        if (opts.out) {
            const w = writeOutput(opts.out, r.bytes!)
            if (w) fail(w)
        }
        if (opts.ts) {
            const w = writeOutput(opts.ts, tsModule({ library: r.bytes! }, "npm run druglib -- compile " + source))
            if (w) fail(w)
        }
        console.log(summary(r.library!, r.bytes!.length) + (opts.out ? " -> " + opts.out : ""))
    })

program
    .command("check")
    .description("check a library (JSON, .dlib or .sdlib) and print its summary; with --key verify the MAC. Exit 0: everything checked; 1: an error; 2: valid but the MAC of a signed library was not verified (no --key)")
    .argument("<file>")
    .option("--key <keyfile>", "device key file to verify a .sdlib")
    .action((file: string, opts: { key?: string }) => {
        const l = load(file, opts.key)
        console.log("ok: " + summary(l.lib, -1).replace(", -1 bytes compact", ""))
        console.log("verified: " + l.verified.join(", "))
        if (l.notVerified.length > 0) console.log("NOT verified: " + l.notVerified.join(", "))
        // A signed library whose signature was not checked has not passed a check.
        if (l.notVerified.some(n => n.startsWith("MAC (no --key"))) process.exit(2)
    })

program
    .command("sign")
    .description("append HMAC-SHA256(device key, compact bytes) to a compact library")
    .argument("<compact>", "compact library (.dlib)")
    .requiredOption("--key <keyfile>", "per-device key file (64 hex digits; see keygen)")
    .requiredOption("-o, --out <file>", "signed output (.sdlib)")
    .action((compact: string, opts: { key: string; out: string }) => {
        const body = readOrFail(compact)
        if (looksLikeJson(body)) fail(compact + " is library JSON source, not a compact library: run `druglib compile " + compact + " -o lib.dlib` first")
        const p = parseLibrary(body)
        if (!p.ok) fail(compact + ": refusing to sign a malformed library: " + p.error)
        const signed = sign(keyOrFail(opts.key), body)
        const w = writeOutput(opts.out, signed)
        if (w) fail(w)
        console.log("signed " + compact + " (" + body.length + " bytes) -> " + opts.out + " (" + signed.length + " bytes)")
    })

program
    .command("embed")
    .description("build a signed library into the board images (" + BOARD_LIBRARY_MODULE + "); deploy the image to update the pump. --none: an image without a library")
    .argument("[signed]", "signed library (.sdlib) for this pump's device key")
    .option("--key <keyfile>", "the pump's device key file: the MAC and content are checked before embedding")
    .option("--none", "write an image with no library")
    .option("-o, --out <file>", "module to write", BOARD_LIBRARY_MODULE)
    .action((signed: string | undefined, opts: { key?: string; none?: boolean; out: string }) => {
        if (opts.none) {
            if (signed) fail("--none takes no library")
            const w = writeOutput(opts.out, boardLibraryModule(null, "npm run druglib -- embed --none"))
            if (w) fail(w)
            console.log("wrote " + opts.out + ": no drug library in the board images")
            return
        }
        if (!signed || !opts.key) fail("embed needs a signed library and --key (or --none)")
        const bytes = readOrFail(signed!)
        const problem = embedProblem(bytes, keyOrFail(opts.key!))
        if (problem) fail(signed + ": " + problem + "; nothing written")
        const w = writeOutput(opts.out, boardLibraryModule(bytes, "npm run druglib -- embed " + signed))
        if (w) fail(w)
        console.log("embedded " + signed + " (" + bytes.length + " bytes) -> " + opts.out + "; now build and deploy the board image")
    })

program
    .command("diff")
    .description("show added/removed care areas and drugs and changed limits between two libraries")
    .argument("<old>")
    .argument("<new>")
    .action((a: string, b: string) => {
        const lines = diffLibraries(load(a).lib, load(b).lib)
        for (const l of lines) console.log(l.kind.padEnd(8) + l.where + (l.detail ? ": " + l.detail : ""))
        console.log(lines.length + " difference" + (lines.length === 1 ? "" : "s"))
    })

program
    .command("keygen")
    .description("create a random 32-byte device key file (provision it into the pump, keep it out of git)")
    .requiredOption("-o, --out <file>")
    .action((opts: { out: string }) => {
        if (existsSync(opts.out)) fail(opts.out + " exists; refusing to overwrite a device key")
        const w = writeOutput(opts.out, newKeyHex() + "\n", 0o600)
        if (w) fail(w)
        console.log("wrote " + opts.out)
    })

program.parse()
