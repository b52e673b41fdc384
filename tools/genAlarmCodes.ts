// Writes docs/alarm-codes.csv from the alarm definitions (src/core/safety/alarmCodes.ts) and their
// prose (src/core/safety/alarmDocs.ts). Run after changing either: npx tsx tools/genAlarmCodes.ts
import { writeFileSync } from "node:fs"
import { alarmCodesCsv } from "../src/core/safety/alarmDocs"

const out = new URL("../docs/alarm-codes.csv", import.meta.url)
writeFileSync(out, alarmCodesCsv())
console.log("wrote " + out.pathname)
