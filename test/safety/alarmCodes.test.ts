import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { ALARM_DEFS, AlarmCode, findAlarm } from "../../src/core/safety/alarmCodes"
import { alarmCodesCsv } from "../../src/core/safety/alarmDocs"
import { PUMP_RAISED, SAFETY_RULES } from "../../src/core/safety/rules"

describe("docs/alarm-codes.csv", () => {
    it("is exactly what tools/genAlarmCodes.ts generates from the definitions (run it after a change)", () => {
        const committed = readFileSync(new URL("../../docs/alarm-codes.csv", import.meta.url), "utf8")
        expect(committed).toBe(alarmCodesCsv())
    })

    it("has one row per alarm definition", () => {
        const rows = alarmCodesCsv().trim().split("\n").slice(1)
        expect(rows.map(r => r.split(",")[0])).toEqual(ALARM_DEFS.map(d => d.code))
    })
})

describe("alarm definitions and the rule table agree", () => {
    it("every stopping alarm is high priority (IEC 60601-1-8: a hazard needing immediate response)", () => {
        for (const d of ALARM_DEFS) if (d.stopsDelivery) expect(d.priority, d.code).toBe("high")
    })

    it("every code is raised by exactly one rule or by the pump, never both or neither", () => {
        const ruled: AlarmCode[] = SAFETY_RULES.map(r => r.code)
        expect(new Set(ruled).size).toBe(ruled.length)
        for (const d of ALARM_DEFS) expect((ruled.includes(d.code) ? 1 : 0) + (PUMP_RAISED.includes(d.code) ? 1 : 0), d.code).toBe(1)
    })

    it("a rule stops delivery exactly when its alarm definition says so", () => {
        for (const r of SAFETY_RULES) expect(r.action !== "WARN", r.code).toBe(findAlarm(r.code)!.stopsDelivery)
    })

    it("pump-raised alarms clear on acknowledge; the rule's hold matches the ack-and-hold-gone clear rule", () => {
        for (const c of PUMP_RAISED) expect(findAlarm(c)!.clear, c).toBe("ack")
        for (const r of SAFETY_RULES) expect(r.hold !== 0, r.code).toBe(findAlarm(r.code)!.clear === "ack-and-hold-gone")
    })
})
