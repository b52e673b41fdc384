// Scratch: replays a panel scenario's key script on the host panel model (PanelSim).
import { PanelSim, sampleLibrary } from "./tools/panelSim"
import { loadScenario } from "./hil-tests/runner/scenario"
const sc = loadScenario(process.argv[2])
const b = new PanelSim(sampleLibrary())
const frames: { t: number; text: string; inv: boolean }[] = []
const snap = () => { const tx = b.text(); if (!frames.length || frames[frames.length - 1].text !== tx) frames.push({ t: b.t / 1000, text: tx, inv: b.screen.inverted }) }
const until = (ms: number) => { while (b.t < ms) { b.advance(100); snap() } }
let delay = 0
const evs = [...sc.events].sort((a, c) => a.atS - c.atS)
for (let i = 0; i < evs.length; i++) {
  const e: any = evs[i]
  until((e.atS + delay) * 1000)
  if (e.do === "key") { b.step("press", e.key); until(b.t + 150); b.step("release", e.key); snap() }
  else if (e.do === "hold") { b.step("press", e.key); until(b.t + e.forS * 1000); b.step("release", e.key) }
  else if (e.do === "door") { b.door = e.open }
  else if (e.do === "keyUntil") {
    let n = 0
    while (!b.text().includes(e.screenContains) && n < e.maxPresses) { n++; b.step("press", e.key); until(b.t + 150); b.step("release", e.key); until(b.t + 250); snap() }
    console.log("keyUntil", JSON.stringify(e.screenContains), n, "presses, done at", b.t / 1000, b.text().includes(e.screenContains) ? "OK" : "FAILED")
    const nx: any = evs[i + 1]; if (nx && nx.atS + delay < b.t / 1000) delay = b.t / 1000 - nx.atS
  }
}
until(sc.durationS * 1000)
for (const x of sc.expect as any[]) {
  if (x.check === "screen" || x.check === "screenNever") {
    const hit = frames.find(f => f.text.includes(x.contains) && (x.inverted === undefined || f.inv === x.inverted))
    console.log(x.check, JSON.stringify(x.contains), hit ? "at " + hit.t : "none")
  }
}
console.log("state", b.pump.state(), "rate", b.pump.status().program?.rateUlPerH, "bolus", b.pump.status().bolusUl, "delay", delay, "end", b.t / 1000)
if (process.argv[3]) for (const f of frames) console.log(f.t, f.inv ? "INV" : "", JSON.stringify(f.text))
