// In-VM occlusion detector test, in its own VM run: the detector's three 900-sample histories
// take most of the 64 KB heap, and next to the other core tests' static data the heap had less
// than 1 KB to spare (a 40-number module-level array was enough to run it out of memory), so
// every pump change broke it. Same test, unchanged, moved out of src/vmtests/core.ts.

import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { OCCLUSION_DEFAULTS, OcclusionDetector } from "../core/safety/occlusion"

describe("occlusion detector under the DeviceScript VM", () => {
    test("occlusion trend: 1 mL/h into C = 4.5 uL/mmHg rises 0.0617 mmHg/s; alarm after 20 mmHg + filters", async () => {
        const d = new OcclusionDetector(OCCLUSION_DEFAULTS)
        let alarmAt = -1
        let p = 10
        const ulPerTick = 1000 / 3600 / 50
        for (let t = 0; t < 1200000 && alarmAt < 0; t += 20) {
            if (t >= 600000) p += ulPerTick / 4.5
            if (d.update(t, p, ulPerTick, true).alarm) alarmAt = t
            if (t % 5000 === 0) await ds.sleep(0)
        }
        // 20 mmHg at 0.0617 mmHg/s = 324 s; plus the detector's filter and confirmation.
        expect(alarmAt - 600000 > 324000).toBe(true)
        expect(alarmAt - 600000 < 600000).toBe(true)
    })

})
