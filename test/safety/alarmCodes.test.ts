import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { ALARM_DEFS } from "../../src/core/safety/alarmCodes"

/** Minimal CSV: quoted fields may contain commas. */
function parse(line: string): string[] {
    const out: string[] = []
    const re = /("([^"]*)"|[^,]*)(,|$)/g
    let m: RegExpExecArray | null
    while ((m = re.exec(line)) && m[0].length > 0) {
        out.push(m[2] !== undefined ? m[2] : m[1])
        if (m[3] === "") break
    }
    return out
}

describe("docs/alarm-codes.csv", () => {
    const lines = readFileSync(new URL("../../docs/alarm-codes.csv", import.meta.url), "utf8").trim().split("\n")
    const rows = lines.slice(1).map(parse)

    it("lists every alarm in the firmware catalogue with the same priority, stop flag and text", () => {
        expect(rows.length).toBe(ALARM_DEFS.length)
        for (const d of ALARM_DEFS) {
            const r = rows.find(x => x[0] === d.code)
            expect(r, d.code).toBeDefined()
            expect(r![1]).toBe(d.priority)
            expect(r![2]).toBe(d.stopsDelivery ? "yes" : "no")
            expect(r![3]).toBe(d.text)
            expect(r![4].length).toBeGreaterThan(10)
            expect(r![5].length).toBeGreaterThan(5)
        }
    })

    it("every stopping alarm is high priority", () => {
        for (const d of ALARM_DEFS) if (d.stopsDelivery) expect(d.priority).toBe("high")
    })
})
