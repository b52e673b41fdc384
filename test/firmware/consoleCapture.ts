// The firmware's console lines, collected per test (vitest hooks): the firmware reports events
// and faults on its console, and tests read them there.
import { afterEach, beforeEach, vi } from "vitest"

export function captureConsole(): { lines: string[] } {
    const out = { lines: [] as string[] }
    beforeEach(() => {
        out.lines = []
        vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => {
            out.lines.push(a.join(" "))
        })
    })
    afterEach(() => {
        vi.restoreAllMocks()
    })
    return out
}
