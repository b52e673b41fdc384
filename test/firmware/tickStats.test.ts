import { describe, expect, test } from "vitest"
import { TickStats } from "../../src/firmware/control"
import { CONTROL_PERIOD_MS } from "../../src/core/pump"

describe("TICK line on the serial log (real tick cost at first flash)", () => {
    test("sums busy time, keeps the longest tick and the longest start-to-start gap, counts skipped ticks", () => {
        const s = new TickStats()
        // Three ticks one period apart taking 3, 7 and 2 ms, then one a period late.
        s.add(0, 3)
        s.add(CONTROL_PERIOD_MS, 7)
        s.add(2 * CONTROL_PERIOD_MS, 2)
        s.add(4 * CONTROL_PERIOD_MS, 1)
        s.skipped = 1
        expect(s.takeLine()).toBe(`TICK n=4 busyMs=13 maxMs=7 gapMaxMs=${2 * CONTROL_PERIOD_MS} skipped=1 periodMs=${CONTROL_PERIOD_MS}`)
        // Taking the line starts the next period from zero.
        expect(s.takeLine()).toBe(`TICK n=0 busyMs=0 maxMs=0 gapMaxMs=0 skipped=0 periodMs=${CONTROL_PERIOD_MS}`)
    })
})
