// Writes docs/sample-logs/*.log: hand-written scenarios for three pumps, formatted with the
// firmware's own LOG line encoder, with the noise a real capture has (other console lines, one
// garbled line, an overlapping second export). Times are chosen so the trend is easy to check by
// hand; see test/tools/logTool.test.ts for the expected figures.
import { mkdirSync, writeFileSync } from "node:fs"
import { formatLogLine } from "../src/core/log/exportLine"

const H = 3_600_000
type Ev = [number, string, string]

function lines(pump: string, firstSeq: number, evs: Ev[]): string[] {
    return evs.map((e, i) => formatLogLine(pump, { seq: firstSeq + i, timeMs: e[0], kind: e[1], detail: e[2] }))
}

// ICU-01: two infusions, 4 + 6 + 2 (KVO) = 12 h, then 3 + 5 = 8 h: 20 h, 2 occlusions, 1 air.
const icu01: Ev[] = [
    [1_000, "BOOT", "boot=14 id=ICU-01 recovered=31 holes=0 invalid=0"],
    [1_500, "PROGRAM", "syringe=bd-plastipak-50 rate=25000uL/h vtbi=250000uL kvo=1000uL/h"],
    [1_500, "STATE", "Idle->Programmed (program)"],
    [2_000, "STATE", "Programmed->Running (start)"],
    [2_000 + 4 * H, "ALARM", "OCCLUSION_DOWNSTREAM p=412mmHg"],
    [2_000 + 4 * H, "STATE", "Running->Alarm (alarm)"],
    [2_000 + 4 * H + 60_000, "STATE", "Alarm->Paused (alarmReset)"],
    [14_500_000, "STATE", "Paused->Running (resume)"],
    [14_500_000 + 6 * H, "VTBI_DONE", "infused=250000uL"],
    [14_500_000 + 6 * H, "STATE", "Running->KVO (vtbiDoneKvo)"],
    [14_500_000 + 8 * H, "STATE", "KVO->Complete (stop)"],
    [50_000_000 - 1_000, "STATE", "Complete->Programmed (program)"],
    [50_000_000, "STATE", "Programmed->Running (start)"],
    [50_000_000 + 3 * H, "ALARM", "AIR_IN_LINE 60uL"],
    [50_000_000 + 3 * H, "STATE", "Running->Alarm (alarm)"],
    [60_900_000, "STATE", "Alarm->Paused (alarmReset)"],
    [61_000_000, "STATE", "Paused->Running (resume)"],
    [61_000_000 + 5 * H, "ALARM", "OCCLUSION_DOWNSTREAM p=398mmHg"],
    [61_000_000 + 5 * H, "STATE", "Running->Alarm (alarm)"],
    [79_050_000, "STATE", "Alarm->Paused (alarmReset)"],
    [79_100_000, "STATE", "Paused->Programmed (stop)"],
]

// ICU-02: power lost 5 h into an infusion (last record at 5 h); after restart 10 h + 5 h.
// Infusion hours 5 + 15 = 20; POWER_RESTORED 1, OCCLUSION_UPSTREAM 1.
const icu02: Ev[] = [
    [900, "BOOT", "boot=3 id=ICU-02 recovered=12 holes=0 invalid=0"],
    [1_000, "STATE", "Programmed->Running (start)"],
    [1_000 + 5 * H, "REMOTE_DROP", "malformed=0 badMac=4 replayed=0 noKey=0 rateLimited=0"],
    [950, "BOOT", "boot=4 id=ICU-02 recovered=15 holes=0 invalid=0"],
    [950, "STATE", "Idle->Paused (restore)"],
    [950, "ALARM", "POWER_RESTORED was Running infused=90210uL steps=519848"],
    [950, "STATE", "Paused->Alarm (alarm)"],
    [120_000, "STATE", "Alarm->Paused (alarmReset)"],
    [180_000, "STATE", "Paused->Running (resume)"],
    [180_000 + 10 * H, "ALARM", "OCCLUSION_UPSTREAM"],
    [180_000 + 10 * H, "STATE", "Running->Alarm (alarm)"],
    [36_240_000, "STATE", "Alarm->Paused (alarmReset)"],
    [36_240_000, "STATE", "Paused->Running (resume)"],
    [36_240_000 + 5 * H, "VTBI_DONE", "infused=250000uL"],
    [36_240_000 + 5 * H, "STATE", "Running->Complete (vtbiDone)"],
]

// WARD-07: never infused; one alarm while programmed.
const ward07: Ev[] = [
    [1_100, "BOOT", "boot=1 id=WARD-07 recovered=0 holes=0 invalid=0"],
    [40_000, "STATE", "Idle->Programmed (program)"],
    [95_000, "ALARM", "PLUNGER_DISENGAGED"],
    [95_000, "STATE", "Programmed->Alarm (alarm)"],
]

const a = lines("ICU-01", 101, icu01)
const b = lines("ICU-02", 40, icu02)
const c = lines("WARD-07", 1, ward07)
const garbled = b[9].replace("OCCLUSION_UPSTREAM", "OCCLUSION_UPSTREAN") // a bit error on the wire
mkdirSync("docs/sample-logs", { recursive: true })
writeFileSync(
    "docs/sample-logs/icu-01.log",
    ["PERSIST no snapshot; runH=412 runMs=1483200000 occlusions=37 doorCycles=911 boots=14", ...a.slice(0, 15), "state=Running rate=25.000mL/h infused=12.500mL vtbi=250.000mL fired=0", ...a.slice(15)].join("\n") + "\n"
)
// A second export of ICU-01 a day later overlaps the first one's last 6 records.
writeFileSync("docs/sample-logs/icu-01-next-day.log", a.slice(15).map(l => "WASM> " + l).join("\n") + "\n")
writeFileSync("docs/sample-logs/icu-02.log", [...b.slice(0, 9), garbled, b[9], ...b.slice(10)].join("\r\n") + "\r\n")
writeFileSync("docs/sample-logs/ward-07.log", c.join("\n") + "\n")
console.log("wrote docs/sample-logs/{icu-01,icu-01-next-day,icu-02,ward-07}.log")
