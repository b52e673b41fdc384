// Host-only prose for docs/alarm-codes.csv (not imported by the firmware, to keep text out of
// the bytecode). Priority, stop flag, text and clearing rule come from ALARM_DEFS; this adds what
// causes each alarm and what must be gone for it to clear. Typed by AlarmCode, so a new code
// without prose does not compile. tools/genAlarmCodes.ts writes the CSV;
// test/safety/alarmCodes.test.ts fails when the committed CSV differs.

import { ALARM_DEFS, AlarmCode, AlarmDef } from "./alarmCodes"

interface AlarmProse {
    cause: string
    /** What must be gone (besides the acknowledge) for the alarm to clear. */
    gone: string
}

export const ALARM_PROSE: Record<AlarmCode, AlarmProse> = {
    OCCL_DOWN: {
        cause: "line pressure rose >= 20 mmHg over baseline in step with pumped volume (each third of the window), or reached the set limit (300/500/900 mmHg), or 1034 mmHg (20 psi); plunger backs off afterwards",
        gone: "back-off finished; a restart re-checks with half the rise threshold until normal flow is proven",
    },
    SYRINGE_DISENGAGED: { cause: "plunger clamp switch open while delivering", gone: "plunger clamped" },
    AIR_BUBBLE: { cause: "volume pumped while air is seen, minus the 2.4 uL detector window, above the set size (50-250 uL)", gone: "no air in the detector" },
    AIR_CUMULATIVE: {
        cause: "sum of bubbles seen in the rolling 15 min window above 1000 uL",
        gone: "no air in the detector (acknowledging with no air restarts the rolling sum)",
    },
    DOOR_OPEN: { cause: "door switch open while delivering", gone: "door closed" },
    SYRINGE_EMPTY: { cause: "pusher within 0.5 mm of the end of travel while delivering", gone: "syringe replaced" },
    BATTERY_DEPLETED: { cause: "battery below 3350 mV", gone: "battery >= 3350 mV" },
    SENSOR_FAULT: {
        cause: "pressure ADC < 100 or > 4000 counts, unchanged for 10 s, or < -60 mmHg for 1 s; battery reading outside 2500-4500 mV; garbled snapshot",
        gone: "readings valid",
    },
    DRIVE_MISMATCH: { cause: "position sensor differs from fired steps by > 200 um while moving", gone: "the cause cannot be seen while stopped; a restart re-checks" },
    WATCHDOG: { cause: "no control tick for >= 1000 ms", gone: "ticks regular" },
    DRIVE_FAULT: { cause: "step engine threw an error (raised by the control loop)", gone: "" },
    POWER_RESTORED: {
        cause: "restart found a snapshot saved while delivering (REQ-PWR-001); pump restored Paused with program and volume",
        gone: "delivery resumes only on an explicit start",
    },
    PUMP_ALARM: { cause: "any other alarm raised directly on the pump controller", gone: "" },
    DOSE_LIMIT: {
        cause: "the drug delivered in a rolling dose window (set from the library's maximum) reached its maximum; the step that would cross it is not fired",
        gone: "delivery resumes only on an explicit start once the window allows it",
    },
    NEAR_EMPTY: { cause: "remaining syringe volume lasts <= 5 min at the current rate", gone: "more than 5 min left (or not delivering)" },
    VTBI_DONE: { cause: "pump in KVO or Complete", gone: "program stopped/cleared or reprogrammed" },
    PAUSED_LONG: { cause: "paused for >= 2 min", gone: "resumed or stopped" },
    BATTERY_LOW: { cause: "battery below 3550 mV", gone: "battery >= 3550 mV" },
    LOOP_OVERRUN: { cause: "a tick gap > 200 ms within the last 10 s", gone: "10 s of regular ticks" },
}

/** The clearing condition in words, from the definition's clear rule. */
export function clearsWhen(d: AlarmDef): string {
    const gone = ALARM_PROSE[d.code].gone
    if (d.clear === "ack") return "acknowledged" + (gone.length > 0 ? "; " + gone : "")
    return "acknowledged and " + gone
}

function quote(s: string): string {
    return '"' + s.split('"').join('""') + '"'
}

/** docs/alarm-codes.csv, one row per ALARM_DEFS entry in catalogue order. */
export function alarmCodesCsv(): string {
    const lines = ["code,priority,stops_delivery,latching,clear_rule,text,cause,clears_when"]
    for (const d of ALARM_DEFS) {
        // Every ClearRule needs the acknowledge: every alarm latches (IEC 60601-1-8).
        lines.push([d.code, d.priority, d.stopsDelivery ? "yes" : "no", "yes", d.clear, quote(d.text), quote(ALARM_PROSE[d.code].cause), quote(clearsWhen(d))].join(","))
    }
    return lines.join("\n") + "\n"
}
