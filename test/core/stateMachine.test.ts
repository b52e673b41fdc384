import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { ALL_EVENTS, ALL_STATES, isDelivering, PumpStateMachine, TRANSITIONS } from "../../src/core/stateMachine"

describe("pump state machine", () => {
    it("has at most one transition per (state, event)", () => {
        const seen = new Set<string>()
        for (const t of TRANSITIONS) {
            const key = t.from + "/" + t.event
            expect(seen.has(key), key).toBe(false)
            seen.add(key)
        }
    })

    it("follows the normal infusion path", () => {
        const sm = new PumpStateMachine()
        for (const [event, to] of [
            ["program", "Programmed"],
            ["start", "Running"],
            ["bolus", "Bolus"],
            ["bolusDone", "Running"],
            ["pause", "Paused"],
            ["resume", "Running"],
            ["vtbiDoneKvo", "KVO"],
            ["stop", "Complete"],
            ["clear", "Idle"],
        ] as const) {
            expect(sm.apply(event)).toMatchObject({ ok: true, to })
        }
    })

    it("rejects an illegal command with a reason and stays put", () => {
        const sm = new PumpStateMachine()
        const r = sm.apply("start")
        expect(r.ok).toBe(false)
        expect(r.reason).toBe("'start' is not allowed in state Idle")
        expect(sm.current).toBe("Idle")
    })

    it("an alarm while delivering resets to Paused, never back to delivery", () => {
        for (const path of [["program", "start"], ["program", "start", "bolus"], ["program", "start", "vtbiDoneKvo"], ["program", "startLoading"]] as const) {
            const sm = new PumpStateMachine()
            for (const e of path) sm.apply(e)
            expect(isDelivering(sm.current)).toBe(true)
            sm.apply("alarm")
            expect(sm.current).toBe("Alarm")
            expect(sm.apply("alarmReset").to).toBe("Paused")
        }
    })

    it("cannot be taken out of service while delivering, and leaves it only by returnToService", () => {
        const sm = new PumpStateMachine()
        sm.apply("program")
        sm.apply("start")
        expect(sm.apply("outOfService").ok).toBe(false)
        sm.apply("pause")
        expect(sm.apply("outOfService").ok).toBe(true)
        for (const e of ALL_EVENTS) if (e !== "returnToService") expect(sm.check(e).ok, e).toBe(false)
        expect(sm.apply("returnToService").to).toBe("Idle")
    })

    it("loading phase: delivering, ends in Running, pauses and resumes into Loading, not out of service", () => {
        const sm = new PumpStateMachine()
        sm.apply("program")
        expect(sm.apply("startLoading").to).toBe("Loading")
        expect(isDelivering(sm.current)).toBe(true)
        expect(sm.check("outOfService").ok).toBe(false)
        expect(sm.check("bolus").ok).toBe(false)
        expect(sm.check("titrate").ok).toBe(false)
        expect(sm.apply("pause").to).toBe("Paused")
        expect(sm.apply("resumeLoading").to).toBe("Loading")
        expect(sm.apply("loadingDone").to).toBe("Running")
        expect(sm.check("loadingDone").ok).toBe(false)
    })

    it("restore never comes back delivering (power loss)", () => {
        for (const s of ALL_STATES) {
            const sm = new PumpStateMachine()
            sm.restore(s)
            expect(isDelivering(sm.current)).toBe(false)
        }
    })

    it("property: random command sequences never deliver straight out of Alarm or OutOfService", () => {
        fc.assert(
            fc.property(fc.array(fc.constantFrom(...ALL_EVENTS), { maxLength: 200 }), events => {
                const sm = new PumpStateMachine()
                for (const e of events) {
                    const before = sm.current
                    const r = sm.apply(e)
                    if (!r.ok && (sm.current !== before || r.reason.length === 0)) return false
                    if ((before === "Alarm" || before === "OutOfService") && isDelivering(sm.current)) return false
                    if (e === "alarm" && before !== "Alarm" && before !== "OutOfService" && sm.current !== "Alarm") return false
                }
                return true
            })
        )
    })
})
