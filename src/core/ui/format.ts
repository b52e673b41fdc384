// Number formatting for the front panel after ISMP's error-prone-abbreviation list: always a
// leading zero ("0.5", never ".5"), never a trailing zero ("5", never "5.0"), and a unit on
// every number. Integer arithmetic only (no float formatting on the device).

import { amountName, unitName } from "../druglib/doseUnits"
import { Concentration } from "../druglib/model"

/** Thousandths as the shortest exact decimal: 5000 -> "5", 500 -> "0.5", 13125 -> "13.125". */
export function formatDose(thousandths: number): string {
    const v = Math.floor(thousandths)
    const neg = v < 0
    const a = neg ? -v : v
    const whole = Math.floor(a / 1000)
    let frac = a % 1000
    let digits = 3
    while (digits > 0 && frac % 10 === 0) {
        frac = Math.floor(frac / 10)
        digits--
    }
    let text = "" + whole
    if (digits > 0) {
        let f = "" + frac
        while (f.length < digits) f = "0" + f
        text += "." + f
    }
    return (neg ? "-" : "") + text
}

/** A dose with its unit code: "5 mcg/kg/min". */
export function doseText(thousandths: number, unitCode: number): string {
    return formatDose(thousandths) + " " + unitName(unitCode)
}

/** µL/h as mL/h: 13125 -> "13.125 mL/h". */
export function rateText(ulPerH: number): string {
    return formatDose(ulPerH) + " mL/h"
}

/** µL as mL: 50000 -> "50 mL". */
export function volumeText(ul: number): string {
    return formatDose(ul) + " mL"
}

/** Grams as kg: 70000 -> "70 kg", 3500 -> "3.5 kg". */
export function weightText(g: number): string {
    return formatDose(g) + " kg"
}

/** "400 mg/250 mL". */
export function concText(c: Concentration, concUnit: number): string {
    return formatDose(c.amount) + " " + amountName(concUnit) + "/" + formatDose(c.volumeUl) + " mL"
}

/** Minutes as "3 h 47 min" / "12 min"; "--" when unknown (no rate). */
export function durationText(minutes: number): string {
    if (minutes < 0) return "--"
    const h = Math.floor(minutes / 60)
    const m = minutes % 60
    return h > 0 ? h + " h " + m + " min" : m + " min"
}

/** Battery millivolts as "3.9 V" (one decimal, truncated: never shows more charge than there is). */
export function batteryText(mv: number): string {
    if (!(mv >= 0)) return "-- V"
    return formatDose(Math.floor(mv / 100) * 100) + " V"
}

/** Pads or cuts to exactly `n` characters. */
export function fit(s: string, n: number): string {
    if (s.length > n) return s.slice(0, n)
    let out = s
    while (out.length < n) out += " "
    return out
}

/** Splits text into lines of at most `width` characters at spaces (a word longer than a line
 *  is cut). */
export function wrap(text: string, width: number): string[] {
    const words = text.split(" ")
    const lines: string[] = []
    let cur = ""
    for (let i = 0; i < words.length; i++) {
        let w = words[i]
        if (w.length === 0) continue
        while (w.length > width) {
            if (cur.length > 0) {
                lines.push(cur)
                cur = ""
            }
            lines.push(w.slice(0, width))
            w = w.slice(width)
        }
        if (cur.length === 0) cur = w
        else if (cur.length + 1 + w.length <= width) cur += " " + w
        else {
            lines.push(cur)
            cur = w
        }
    }
    if (cur.length > 0) lines.push(cur)
    return lines
}
