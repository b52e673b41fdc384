// The simulator page: shows what the server streams (the firmware's own lines and the plant's
// truth) and sends keys and plant disturbances back. No logic of the pump lives here.
"use strict"

const $ = id => document.getElementById(id)
/** Battery drained to (mV): below the firmware's depletion threshold, as the battery-depleted scenario. */
const DRAINED_MV = 3300
/** Plot window (s of simulated time) and the points kept. */
const PLOT_WINDOW_S = 120
const PLOT_MAX_POINTS = 4000
const LOG_MAX = 400
const KEY_SHORTCUTS = { start: ["s", "Enter"], pause: ["p", " "], stop: ["x", "Escape", "Backspace"], bolus: ["b"], ack: ["a"], up: ["ArrowUp"], down: ["ArrowDown"] }
/** What each key does on the front panel (src/core/ui/panel.ts); the key-less images show the rig's key names. */
const PANEL_KEY_LABELS = { start: "START / OK", stop: "STOP / BACK", up: "▲ UP", down: "▼ DOWN", ack: "ACK (silence)" }

let ws
let last = null
let fullBatteryMv = 0
let audio = null
let beepUntil = 0
const plot = { t: [], p: [], f: [] }
window.simPlot = plot // the plotted series, read by the browser test
let plots = null
let programs = []
/** The keys the loaded program's image acts on (the page's buttons and shortcuts). */
let shownKeys = []

function send(req) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(req))
}

function fmt(v, digits) {
    return Number.isFinite(v) ? v.toFixed(digits) : "—"
}

function logLine(text, cls, box) {
    const ol = $(box || "log")
    const atBottom = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4
    const li = document.createElement("li")
    li.textContent = text
    if (cls) li.className = cls
    ol.appendChild(li)
    while (ol.children.length > LOG_MAX) ol.removeChild(ol.firstChild)
    if (atBottom) ol.scrollTop = ol.scrollHeight
}

function ensureAudio() {
    if (!audio) {
        try {
            audio = new AudioContext()
        } catch (e) {
            audio = null
        }
    }
    if (audio && audio.state === "suspended") audio.resume()
}

/** The firmware's `beep=<Hz>/<ms>`: one tone, at most one at a time, at most 1 s. */
function beep(hz, ms) {
    if ($("mute").checked || !audio || audio.state !== "running") return
    const now = audio.currentTime
    if (now < beepUntil) return
    const dur = Math.min(ms, 1000) / 1000
    const osc = audio.createOscillator()
    const gain = audio.createGain()
    osc.frequency.value = hz
    gain.gain.value = 0.08
    osc.connect(gain).connect(audio.destination)
    osc.start(now)
    osc.stop(now + dur)
    beepUntil = now + dur
}

function makePlots() {
    const w = Math.max(300, $("plot-pressure").clientWidth)
    const opts = (label, color) => ({
        width: w,
        height: 150,
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [{ label: "s" }, {}],
        series: [{}, { label, stroke: color, width: 1.5 }],
    })
    plots = {
        p: new uPlot(opts("mmHg", "#dc2626"), [[], []], $("plot-pressure")),
        f: new uPlot(opts("mL/h", "#2563eb"), [[], []], $("plot-flow")),
    }
}

function addPoints(points) {
    for (const pt of points) {
        plot.t.push(pt.tS)
        plot.p.push(pt.pressureMmHg)
        plot.f.push(pt.flowUlPerH / 1000)
    }
    const excess = plot.t.length - PLOT_MAX_POINTS
    if (excess > 0) for (const a of [plot.t, plot.p, plot.f]) a.splice(0, excess)
}

function drawPlots() {
    if (!plots || plot.t.length === 0) return
    const tEnd = plot.t[plot.t.length - 1]
    let i0 = 0
    while (i0 < plot.t.length && plot.t[i0] < tEnd - PLOT_WINDOW_S) i0++
    const t = plot.t.slice(i0)
    plots.p.setData([t, plot.p.slice(i0)])
    plots.f.setData([t, plot.f.slice(i0)])
}

function setToggle(id, on, offText, onText) {
    const b = $(id)
    b.textContent = on ? onText : offText
    b.classList.toggle("active", on)
    b.dataset.on = on ? "1" : "0"
}

function drawSyringe(s) {
    const x0 = 60
    const widthPx = 380
    const scale = widthPx / s.syringe.travelMm
    const stopperX = x0 + Math.max(0, Math.min(s.syringe.travelMm, s.plungerMm)) * scale
    const pusherX = x0 + Math.max(0, s.pusherMm) * scale - 60
    $("stopper").setAttribute("x", stopperX.toFixed(1))
    $("fluid").setAttribute("x", (stopperX + 8).toFixed(1))
    $("fluid").setAttribute("width", Math.max(0, x0 + widthPx - stopperX - 8).toFixed(1))
    $("rod").setAttribute("x", (stopperX - 60).toFixed(1))
    $("rod").setAttribute("width", "60")
    $("pusher").setAttribute("x", (pusherX - 14).toFixed(1))
    $("line").classList.toggle("clamped", s.plant.occluded)
    const leftMl = s.syringe.nominalMl * (1 - s.plungerMm / s.syringe.travelMm)
    $("plunger-text").textContent = "plunger " + fmt(s.plungerMm, 2) + " mm from full, about " + fmt(leftMl, 2) + " mL left"
    $("syringe-name").textContent = s.syringe.id
}

function render(s) {
    last = s
    $("time").textContent = fmt(s.tS, 1)
    const stateText = s.stopped ? "firmware stopped" : s.state
    $("state").textContent = stateText
    $("alarm").textContent = s.alarm || "—"
    $("alarm").classList.toggle("alarming", !!s.alarm)
    $("latched").textContent = s.latched.length ? s.latched.join(", ") : "—"
    $("alarm-light").classList.toggle("on", s.alarmLed)
    $("infused").textContent = String(s.infusedUl)
    $("bolus").textContent = String(s.bolusUl)
    $("delivered").textContent = fmt(s.deliveredUl, 1)
    $("pressure").textContent = fmt(s.pressureMmHg, 1)
    $("flow").textContent = fmt(s.flowUlPerH / 1000, 2)
    $("motor").textContent = s.motor ? "on" : "off"
    $("behind").hidden = !(s.behindS > 0)
    $("behind").textContent = "host behind the chosen speed by " + fmt(s.behindS, 1) + " s (dropped)"
    for (const b of $("speeds").children) b.classList.toggle("on", b.dataset.speed === String(s.speed))
    const p = s.plant
    setToggle("btn-clamp", p.occluded, "Clamp line downstream", "Release downstream clamp")
    setToggle("btn-upclamp", p.upstreamOccluded, "Clamp at the syringe (upstream)", "Release upstream clamp")
    setToggle("btn-door", p.doorOpen, "Open door", "Close door")
    setToggle("btn-plunger", !p.plungerEngaged, "Disengage plunger", "Re-engage plunger")
    setToggle("btn-stall", p.stalled, "Stall motor", "Free motor")
    setToggle("btn-battery", p.batteryMv < fullBatteryMv, "Drain battery", "Charge battery (" + fullBatteryMv + " mV)")
    setToggle("btn-power", !s.powered, "Cut power", "Restore power")
    drawSyringe(s)
}

function pressKey(k) {
    ensureAudio()
    send({ op: "key", key: k })
    const b = $("key-" + k)
    if (b) {
        b.classList.add("pressed")
        setTimeout(() => b.classList.remove("pressed"), 150)
    }
}

/** The key buttons and keyboard help for the loaded program: the front panel's five keys, or the
 *  rig's seven direct keys on an image without a panel. */
function showKeys(programId) {
    const prog = programs.find(p => p.id === programId)
    const panel = !!(prog && prog.panel)
    shownKeys = prog ? prog.keys : []
    const keys = $("keys")
    keys.textContent = ""
    keys.classList.toggle("panel-keys", panel)
    const help = []
    shownKeys.forEach((k, i) => {
        const b = document.createElement("button")
        b.id = "key-" + k
        b.textContent = panel ? PANEL_KEY_LABELS[k] || k.toUpperCase() : k.toUpperCase()
        b.onclick = () => pressKey(k)
        // A clicked key keeps no focus, so Enter/Space on the keyboard is never a second press.
        b.onmousedown = e => e.preventDefault()
        keys.appendChild(b)
        const sc = (KEY_SHORTCUTS[k] || []).concat([String(i + 1)])
        help.push(k + ": " + sc.map(c => (c === " " ? "Space" : c)).join("/"))
    })
    $("key-help").textContent = help.join(", ")
    $("screen").textContent = panel ? "(booting: waiting for the firmware's first PANEL frame)" : "(no front panel in this\nimage: a fixed program,\ndriven by the rig's keys\nbelow)"
}

/** One front-panel frame: its rows as shown, inverted for a high-priority alarm. */
function showScreen(f) {
    $("screen").textContent = f.lines.join("\n")
    $("screen").classList.toggle("inverted", f.inverted)
}

function setup(hello) {
    programs = hello.programs
    $("program").textContent = ""
    for (const p of hello.programs) {
        const o = document.createElement("option")
        o.value = p.id
        o.textContent = p.label
        $("program").appendChild(o)
    }
    $("speeds").textContent = ""
    for (const sp of hello.speeds) {
        const b = document.createElement("button")
        b.dataset.speed = String(sp)
        b.id = "speed-" + sp
        b.textContent = sp === "max" ? "max" : sp + "×"
        b.onclick = () => send({ op: "speed", speed: sp })
        $("speeds").appendChild(b)
    }
    $("sensor").textContent = ""
    for (const n of hello.sensors) {
        const o = document.createElement("option")
        o.value = n
        o.textContent = n
        $("sensor").appendChild(o)
    }
    $("bubble-ul").max = String(hello.bubbleMaxUl)
    document.onkeydown = e => {
        if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "SELECT")) return
        for (let i = 0; i < shownKeys.length; i++) {
            const k = shownKeys[i]
            if ((KEY_SHORTCUTS[k] || []).indexOf(e.key) >= 0 || e.key === String(i + 1)) {
                e.preventDefault()
                pressKey(k)
                return
            }
        }
    }
    fullBatteryMv = hello.status.plant.batteryMv
    resetView(hello.status)
    if (hello.screen) showScreen(hello.screen)
}

function resetView(status) {
    plot.t.length = plot.p.length = plot.f.length = 0
    $("screen").classList.remove("inverted")
    showKeys(status.programId)
    logLine("— pump booted with " + status.programId + " —", "hil")
    fullBatteryMv = status.plant.batteryMv
    $("program").value = status.programId
    render(status)
    drawPlots()
}

function wireFaults() {
    const on = id => $(id).dataset.on === "1"
    $("btn-clamp").onclick = () => send({ op: "occlusion", closed: !on("btn-clamp") })
    $("btn-upclamp").onclick = () => send({ op: "upstreamOcclusion", closed: !on("btn-upclamp") })
    $("btn-door").onclick = () => send({ op: "door", open: !on("btn-door") })
    $("btn-plunger").onclick = () => send({ op: "plunger", engaged: on("btn-plunger") })
    $("btn-stall").onclick = () => send({ op: "stall", stalled: !on("btn-stall") })
    $("btn-battery").onclick = () => send({ op: "battery", mv: on("btn-battery") ? fullBatteryMv : DRAINED_MV })
    $("btn-power").onclick = () => send({ op: "power", on: on("btn-power") })
    $("btn-bubble").onclick = () => send({ op: "bubble", volumeUl: Number($("bubble-ul").value) })
    $("btn-sensor").onclick = () => {
        const sensor = $("sensor").value
        let mode = $("sensor-mode").value
        if (sensor === "pressure" && mode === "none" && last && last.plant.pressureUnplugged) mode = "plugged"
        send({ op: "sensor", sensor, mode })
    }
    $("load-program").onclick = () => send({ op: "program", id: $("program").value })
    document.addEventListener("click", ensureAudio)
}

function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws")
    ws.onopen = () => {
        $("conn").textContent = "connected"
        $("conn").classList.add("ok")
    }
    ws.onclose = () => {
        $("conn").textContent = "disconnected (is `npm run sim:web` still running?)"
        $("conn").classList.remove("ok")
    }
    ws.onmessage = ev => {
        const m = JSON.parse(ev.data)
        if (m.type === "hello") setup(m)
        else if (m.type === "reset") resetView(m.status)
        else if (m.type === "status") {
            addPoints(m.points)
            render(m.status)
            drawPlots()
        } else if (m.type === "event") logLine(m.line, /ALARM|OCCL|AIR|FAULT/.test(m.line) ? "alarmish" : "")
        else if (m.type === "hil") logLine(m.line, "hil")
        else if (m.type === "console") logLine(m.line, /PANIC|OOM|Exception/.test(m.line) ? "alarmish" : "", "console")
        else if (m.type === "beep") beep(m.hz, m.ms)
        else if (m.type === "screen") showScreen(m)
        else if (m.type === "error") $("error").textContent = m.message
        else if (m.type === "ok") $("error").textContent = ""
    }
}

makePlots()
wireFaults()
connect()
