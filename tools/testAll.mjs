#!/usr/bin/env node
// `npm test`: runs every suite in order, streams its output, and ends with one summary line
// "N passed, N failed" over all suites, so CI logs say how many tests ran. Exit code is non-zero
// if any step fails or any suite ran no test.
import { spawn } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"

const vitestJson = "node_modules/.cache/vitest-results.json"

/** Each step: an npm script and how to count its tests (null: a build/type-check step). */
const steps = [
    { script: "typecheck", count: null },
    {
        script: "test:host",
        args: ["--", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`],
        count: () => {
            const r = JSON.parse(readFileSync(vitestJson, "utf8"))
            return { passed: r.numPassedTests, failed: r.numFailedTests }
        },
    },
    { script: "build:boards", count: null },
    {
        script: "test:vm",
        count: out => {
            const m = [...out.matchAll(/tests: (\d+), pass: (\d+), error: (\d+)/g)]
            if (m.length === 0) return null
            return m.reduce((a, x) => ({ passed: a.passed + +x[2], failed: a.failed + +x[3] }), { passed: 0, failed: 0 })
        },
    },
    {
        // The web simulator in Debian's Chromium (node:test, spec reporter: "ℹ pass N", "ℹ fail N").
        script: "test:web",
        count: out => {
            const p = out.match(/ℹ pass (\d+)/)
            const f = out.match(/ℹ fail (\d+)/)
            return p && f ? { passed: +p[1], failed: +f[1] } : null
        },
    },
    {
        script: "test:hil",
        count: out => {
            const m = out.match(/(\d+)\/(\d+) scenarios passed/)
            return m ? { passed: +m[1], failed: +m[2] - +m[1] } : null
        },
    },
]

function run(script, args = []) {
    return new Promise(resolve => {
        const child = spawn("npm", ["run", script, ...args], { stdio: ["ignore", "pipe", "pipe"] })
        let out = ""
        child.stdout.on("data", d => {
            out += d
            process.stdout.write(d)
        })
        child.stderr.on("data", d => {
            out += d
            process.stderr.write(d)
        })
        child.on("close", code => resolve({ code, out }))
    })
}

let passed = 0
let failed = 0
let broken = []
// Lines that say what failed, repeated at the end: CI keeps only the head and tail of a long log.
const failureLines = []
const FAILURE_LINE = /^\s*(FAIL\b|ERROR\b|×|✗|AssertionError|Error:)/
rmSync(vitestJson, { force: true })
for (const step of steps) {
    const { code, out } = await run(step.script, step.args)
    for (const line of out.split("\n")) if (FAILURE_LINE.test(line)) failureLines.push(`[${step.script}] ${line.trim()}`)
    if (code !== 0) broken.push(`${step.script} (exit ${code})`)
    if (step.count) {
        let c = null
        try {
            c = step.count(out)
        } catch {
            c = null
        }
        if (!c || c.passed + c.failed === 0) broken.push(`${step.script} (ran no test)`)
        else {
            passed += c.passed
            failed += c.failed
            console.log(`\n[${step.script}] ${c.passed} passed, ${c.failed} failed\n`)
        }
    }
    if (code !== 0) break
}
if (failureLines.length) {
    console.log("\nwhat failed (first 40 lines):")
    for (const line of failureLines.slice(0, 40)) console.log("  " + line)
}
if (broken.length) console.log("failed steps: " + broken.join(", "))
console.log(`${passed} passed, ${failed} failed`)
process.exit(broken.length || failed ? 1 : 0)
