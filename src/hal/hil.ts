// HIL adapter: the firmware's sensors and keys are Jacdac roles served by the rig (a plant model
// on a simulated bus, or the bench rig's own Jacdac devices). Motion runs through the shipping
// TMC5160 driver and step engine against the register-level controller model in the VM; every
// 100 ms (HIL_POLL_MS) the shaft movement of the model is printed as a machine-readable line on the console
// (stdout in the simulator, the serial log on a board) so the rig can move the plant. Only this
// adapter differs from the shipping build; the control loop and the core are the same modules.
//
// Service mapping (each signal has its own service class, so role binding is unambiguous):
//   line-pressure / plunger-force ADC  -> Potentiometer (ratio 0..1 = ADC counts / 4095)
//   air-in-line detector               -> ReflectedLight (reading > 0.5 = air in the window)
//   door hall sensor                   -> MagneticFieldLevel (reading > 0.5 = door OPEN)
//   plunger-engaged microswitch        -> Switch (true = engaged)
//   battery voltage                    -> DcVoltageMeasurement (V)
//   plunger position (linear encoder)  -> RotaryEncoder (position in µm from the full mark)
//   keys                               -> MatrixKeypad, 7x1 membrane keypad, key i = KEY_NAMES[i]
// The front-panel image (createHilPanelRig) moves the plant with ideal motion instead (idealMotion).

import * as ds from "@devicescript/core"
import { SensorSnapshot } from "../core/sensors"
import { OutputLine, REFERENCE_TMC_CONFIG, Tmc5160 } from "./tmc5160"
import { Tmc5160Model, TmcFault } from "./tmc5160Model"
import { TmcStepEngine } from "./tmcStepEngine"
import { PumpHardware, StepEngine } from "./types"
import { HIL_PREFIX, HilRig, SENSOR_STALE_MS } from "./hilTypes"
import { startRigReports } from "./hilReport"



export interface HilReading {
    value: number
    /** ds.millis() of the last update; -1 if never seen. */
    atMs: number
}

export function fresh(r: HilReading, nowMs: number): boolean {
    return r.atMs >= 0 && nowMs - r.atMs <= SENSOR_STALE_MS
}

/** The reading's value while fresh, else `whenStale`: what its wire reads with the connector
 *  pulled (see createHilHardware). */
function valueOr(r: HilReading, nowMs: number, whenStale: number): number {
    return fresh(r, nowMs) ? r.value : whenStale
}

/** One rig signal: its register's last value and age tracked
 *  (a boolean register as 1 / 0); reads never block the control loop. The reading is also added
 *  to `all` (for allFresh). */
function signal(reg: ds.Register<any>, all: HilReading[], onValue?: (v: number) => void): HilReading {
    const r: HilReading = { value: 0, atMs: -1 }
    reg.subscribe(v => {
        const n = v === true ? 1 : v === false ? 0 : v
        // An unbound role reports undefined: that is no reading, so the value ages out instead.
        if (typeof n !== "number" || isNaN(n)) return
        r.value = n
        r.atMs = ds.millis()
        if (onValue) onValue(n)
    })
    all.push(r)
    return r
}

/** Raw rig signals, in the units the board reads them.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class HilSignals {
    /** Every reading below, for allFresh. */
    readonly all: HilReading[] = []
    readonly pressureRatio: HilReading
    readonly air: HilReading
    readonly doorField: HilReading
    readonly plungerSwitch: HilReading
    readonly batteryV: HilReading
    readonly positionUm: HilReading
    readonly keypad: ds.MatrixKeypad
    /** The seven roles (ROLE_NAMES order) and which of them were last reported bound (bit i). */
    readonly roles: ds.Role[]
    boundBits = 0
    /** `fn` is called with every door reading (createHilHardware's door interlock). A box, not a
     *  method: `this` in an arrow inside a method does not compile for the VM. */
    readonly doorHook: { fn: (field: number) => void }

    constructor() {
        const pressure = new ds.Potentiometer()
        const air = new ds.ReflectedLight()
        const door = new ds.MagneticFieldLevel()
        const plunger = new ds.Switch()
        const battery = new ds.DcVoltageMeasurement()
        const position = new ds.RotaryEncoder()
        this.pressureRatio = signal(pressure.reading, this.all)
        this.air = signal(air.reading, this.all)
        const hook: { fn: (field: number) => void } = { fn: null }
        this.doorHook = hook
        this.doorField = signal(door.reading, this.all, (v: number) => {
            if (hook.fn) hook.fn(v)
        })
        this.plungerSwitch = signal(plunger.reading, this.all)
        this.batteryV = signal(battery.reading, this.all)
        this.positionUm = signal(position.reading, this.all)
        this.keypad = new ds.MatrixKeypad()
        this.roles = [pressure, air, door, plunger, battery, position, this.keypad]
    }
}

/** True once every rig signal has reported recently. */
export function allFresh(g: HilSignals, nowMs: number): boolean {
    for (let i = 0; i < g.all.length; i++) if (!fresh(g.all[i], nowMs)) return false
    return true
}

/** Enable line into the model's DRV_ENN input; prints motor=0/1 on every change, after
 *  reporting the shaft steps made so far (the rig drops steps that arrive with the motor off).
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
class HilEnableLine implements OutputLine {
    private readonly model: Tmc5160Model
    motion: HilMotion = null
    private last = -1
    constructor(model: Tmc5160Model) {
        this.model = model
    }
    write(high: boolean) {
        if (this.motion) this.motion.report()
        this.model.setStageEnabled(high)
        const v = high ? 1 : 0
        if (v !== this.last) console.log(HIL_PREFIX + "t=" + ds.millis() + " motor=" + v)
        this.last = v
    }
}

/** The rig's motion as the HIL adapter uses it: the step engine, the door interlock (on every
 *  change of the door signal) and the steps= report. */
export interface RigMotion {
    readonly engine: StepEngine
    poll(doorClosed: boolean): void
    report(): void
    inject(f: TmcFault): void
}

/** Runs the controller model on the VM clock, keeps its door interlock in step with the rig's
 *  door signal, and reports shaft movement (steps=) so the rig moves the plant.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class HilMotion implements RigMotion {
    readonly model: Tmc5160Model
    readonly engine: TmcStepEngine
    private reported = 0

    constructor() {
        this.model = new Tmc5160Model(() => ds.millis())
        const line = new HilEnableLine(this.model)
        this.engine = new TmcStepEngine(new Tmc5160(this.model, REFERENCE_TMC_CONFIG), line)
        line.motion = this
    }

    /** On every change of the rig's door signal: the door interlock, then report. */
    poll(doorClosed: boolean) {
        this.model.setDoorClosed(doorClosed)
        this.report()
    }

    /** Advances the model and prints the shaft steps made since the last report; the rig
     *  applies them over the interval ending at this line. */
    report() {
        const shaft = this.model.shaft()
        const n = shaft - this.reported
        if (n !== 0) {
            this.reported = shaft
            console.log(HIL_PREFIX + "t=" + ds.millis() + " steps=" + n + " fired=" + shaft)
        }
    }

    inject(f: TmcFault) {
        console.log(HIL_PREFIX + "t=" + ds.millis() + " tmcfault=" + f)
        this.model.inject(f)
    }
}

/** Ideal motion for the front-panel HIL image (src/firmware/hilPanel.ts): with the panel, the
 *  TMC5160 driver, step engine and register model (about 5.5 KB) do not fit the VM's 64 KB of
 *  code. Every queued microstep is made at once while the enable line is on and the door closed
 *  (the interlock in series with the enable line), none otherwise. The driver's path is
 *  exercised by the key-less image's scenarios, this image's by the panel's. An object over
 *  closures, not a class: a class costs a constructor and a prototype registration per method
 *  (TODO-CODE-1). */
export function idealMotion(): RigMotion {
    let pos = 0
    let reported = 0
    let on = false
    let doorClosed = true
    const report = () => {
        const n = pos - reported
        if (n !== 0) {
            reported = pos
            console.log(HIL_PREFIX + "t=" + ds.millis() + " steps=" + n + " fired=" + pos)
        }
    }
    return {
        engine: {
            init: async () => {},
            enable: async (enable: boolean) => {
                report()
                if (enable !== on) console.log(HIL_PREFIX + "t=" + ds.millis() + " motor=" + (enable ? 1 : 0))
                on = enable
            },
            queue: async (steps: number, forward: boolean, windowMs: number) => {
                if (on && doorClosed) pos += forward ? steps : -steps
            },
            firedCount: async () => pos,
        },
        poll: (closed: boolean) => {
            doorClosed = closed
            report()
        },
        report: report,
        inject: (f: TmcFault) => {
            console.log(HIL_PREFIX + "t=" + ds.millis() + " vclock-error=no TMC5160 model in this image for fault " + f)
        },
    }
}

/** The rig's hardware. Indicators and sensors are object literals over closures, not classes: a
 *  class costs a constructor and a prototype registration per method (TODO-CODE-1).
 *  Annunciation lines: shaft steps are reported first so every HIL line ends an interval whose
 *  motion is already on the console (the rig applies steps over the interval ending at their
 *  line, and a line printed just before them would squeeze that interval).
 *  Sensors: a signal whose role is unbound or silent for SENSOR_STALE_MS reads as its wire would
 *  with the connector pulled: ADC 0 (pull-down), switch open, door open, no battery; the safety
 *  monitor then sees a sensor fault, not a stale value. */
export function createHilHardware(g: HilSignals, motion: RigMotion): PumpHardware {
    // The door switch in series with the enable line follows the rig's door signal on every
    // report (its last value, even when stale: a late bus update is not the switch opening; the
    // safety monitor still treats a stale door reading as open, in the sensors below).
    let doorClosed = true
    g.doorHook.fn = (field: number) => {
        const closed = field <= 0.5
        if (closed !== doorClosed) {
            doorClosed = closed
            motion.poll(closed)
        }
    }
    startRigReports(g, motion)
    const stepper = motion.engine
    return {
        name: "hil",
        stepper: stepper,
        indicators: {
            setRunLed: async (on: boolean) => {},
            setAlarmLed: async (on: boolean) => {
                motion.report()
                console.log(HIL_PREFIX + "t=" + ds.millis() + " alarmLed=" + (on ? 1 : 0))
            },
            beep: async (frequencyHz: number, durationMs: number) => {
                motion.report()
                console.log(HIL_PREFIX + "t=" + ds.millis() + " beep=" + frequencyHz + "/" + durationMs)
            },
        },
        sensors: {
            read: async (): Promise<SensorSnapshot> => {
                const now = ds.millis()
                return {
                    pressureAdc: Math.round(valueOr(g.pressureRatio, now, 0) * 4095),
                    airInLine: valueOr(g.air, now, 1) > 0.5,
                    doorOpen: valueOr(g.doorField, now, 1) > 0.5,
                    plungerEngaged: valueOr(g.plungerSwitch, now, 0) > 0,
                    batteryMv: Math.round(valueOr(g.batteryV, now, 0) * 1000),
                    firedSteps: await stepper.firedCount(),
                    plungerPositionUm: valueOr(g.positionUm, now, 0),
                }
            },
        },
    }
}

/** The rig as the HIL firmware body sees it: hardware adapter, signal freshness and keypad;
 *  motion through the TMC5160 driver against its register model. */
export function createHilRig(): HilRig {
    return rigWith(new HilMotion())
}

/** The front-panel image's rig: the same signals and keypad, ideal motion (idealMotion). */
export function createHilPanelRig(): HilRig {
    return rigWith(idealMotion())
}

function rigWith(motion: RigMotion): HilRig {
    const signals = new HilSignals()
    return {
        hw: createHilHardware(signals, motion),
        allSignalsFresh: (nowMs: number) => allFresh(signals, nowMs),
        onKeypad: (fn: (pressed: number[]) => void) => {
            signals.keypad.reading.subscribe(fn)
        },
        reportMotion: () => motion.report(),
        injectDriveFault: (f: TmcFault) => motion.inject(f),
    }
}
