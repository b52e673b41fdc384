// Number formatting for the front panel after ISMP's error-prone-abbreviation list: always a
// leading zero ("0.5", never ".5"), never a trailing zero ("5", never "5.0"), and a unit on
// every number. Integer arithmetic only (no float formatting on the device).

import { amountName, unitName } from "../druglib/doseUnits"
import { Concentration } from "../druglib/model"
import { formatThousandths } from "../units"

/** Thousandths as the shortest exact decimal: 5000 -> "5", 500 -> "0.5", 13125 -> "13.125"
 *  (the core's formatThousandths, trailing zeros removed). */
export function formatDose(thousandths: number): string {
    return tidyNumbers(formatThousandths(thousandths))
}

/** A dose with its unit code: "5 mcg/kg/min". */
export function doseText(thousandths: number, unitCode: number): string {
    return formatDose(thousandths) + " " + unitName(unitCode)
}

/** Removes trailing zeros from every decimal number in `text`: the checker's reasons print
 *  thousandths with three decimals ("30.000 mg"); on screen a trailing zero is a misreading risk
 *  (ISMP), so "30.000" shows as "30" and "0.500" as "0.5". */
export function tidyNumbers(text: string): string {
    let out = ""
    let frac = false
    // Whether the character before this one is a digit (after a fraction's trailing zeros are
    // dropped the output still ends in the digit before the point, so this is also out's last).
    let prev = false
    for (let i = 0; i <= text.length; i++) {
        const c = text.charCodeAt(i)
        const n = text.charCodeAt(i + 1)
        const digit = c >= 48 && c <= 57
        if (frac) if (!digit) {
            // End of the digits after a decimal point: drop their trailing zeros, then a bare point.
            while (out.charAt(out.length - 1) === "0") out = out.slice(0, out.length - 1)
            if (out.charAt(out.length - 1) === ".") out = out.slice(0, out.length - 1)
            frac = false
        }
        if (c === 46) if (prev) if (n >= 48) if (n <= 57) frac = true
        if (i < text.length) out += text.charAt(i)
        prev = digit
    }
    return out
}

/** "400 mg/250 mL". */
export function concText(c: Concentration, concUnit: number): string {
    return formatDose(c.amount) + " " + amountName(concUnit) + "/" + formatDose(c.volumeUl) + " mL"
}

/** Pads or cuts to exactly `n` characters. */
export function fit(s: string, n: number): string {
    // n is at most a row (21 characters).
    return (s + "                     ").slice(0, n)
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
