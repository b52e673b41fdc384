// Front-panel bench for the timelines: the host panel simulation plus the ISMP number checker.

export { PanelSim as Bench, sampleLibrary } from "../../tools/panelSim"

/** Every number on a screen carries a unit, has a leading zero and no trailing zero (ISMP). */
const UNIT = /^ (mL\/h|mL|kg|mcg\/kg\/min|mcg\/min|mcg\/kg|mg\/kg\/h|mg\/h|mg|mcg|ng|units\/kg\/h|units\/kg|units\/h|units\/min|units|milliunits|mmol|mEq\/kg\/h|mEq\/kg|mEq|g|s|min|h|V|mmHg)(?![A-Za-z])/
export function numberProblems(lines: string[]): string[] {
    const bad: string[] = []
    for (const line of lines) {
        if (/(^|[^\d])\.\d/.test(line)) bad.push("no leading zero: " + line)
        if (/\d\.\d*0(?![\d])/.test(line)) bad.push("trailing zero: " + line)
        const re = /(?<![\w.])(\d+(?:\.\d+)?)(?![\d.])/g
        let m: RegExpExecArray | null
        while ((m = re.exec(line))) {
            const rest = line.slice(m.index + m[0].length)
            if (!UNIT.test(rest)) bad.push("no unit after " + m[0] + ": '" + line + "'")
        }
    }
    return bad
}
