// Simulated rig on the Jacdac bus: one device that serves the plant's sensor signals and the
// membrane keypad, with the service mapping documented in src/hal/hil.ts.

import { createRequire } from "node:module"
import type { PlantSensorReadings } from "../plant/api"

// jacdac-ts's ESM build cannot reach `net` (its TCP transport calls require); the CJS build can.
const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jd: any = require("jacdac-ts")

// The keypad layout is the firmware's (one list for both sides of the bus).
import { KEY_NAMES, SENSOR_STALE_MS } from "../../src/hal/hilTypes"
export { KEY_NAMES, SENSOR_STALE_MS }
/** Fixed rig device id so the firmware's role bindings do not depend on a random id. */
const RIG_DEVICE_ID = "48494c2d52494731"
const STREAM_MS = 100

export class SimRig {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private bus: any
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private servers: Record<string, any> = {}
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private provider: any
    private pressurePlugged = true

    /** Joins the bus `devs devtools` hosts over TCP (the sim backend, wall clock). */
    async connect(port = 8082) {
        this.bus = new jd.JDBus([jd.createNodeSocketTransport(port, "127.0.0.1")], { client: false, disableRoleManager: true })
        await this.serve()
    }

    /** An in-process bus on a caller's clock (the vclock backend): frames pass through `bridge`
     *  (a jacdac-ts JDBridge), timers run on `scheduler` (a jacdac-ts Scheduler). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async connectBridge(bridge: any, scheduler: unknown) {
        // A fixed id for the bus's own device too: nothing on the bus depends on a random id.
        this.bus = new jd.JDBus([], { client: false, disableRoleManager: true, scheduler, deviceId: "48494c2d42555331" })
        bridge.bus = this.bus
        await this.serve()
    }

    private async serve() {
        const opt = (v: unknown[]) => ({ readingValues: v, streamingInterval: STREAM_MS, preferredStreamingInterval: STREAM_MS })
        this.servers = {
            pressure: new jd.SensorServer(jd.SRV_POTENTIOMETER, opt([0.1])),
            air: new jd.SensorServer(jd.SRV_REFLECTED_LIGHT, opt([0])),
            door: new jd.SensorServer(jd.SRV_MAGNETIC_FIELD_LEVEL, opt([0])),
            plunger: new jd.SensorServer(jd.SRV_SWITCH, opt([true])),
            battery: new jd.SensorServer(jd.SRV_DC_VOLTAGE_MEASUREMENT, opt([3.9])),
            position: new jd.SensorServer(jd.SRV_ROTARY_ENCODER, opt([0])),
            keypad: new jd.MatrixKeypadServer(KEY_NAMES.length, 1, KEY_NAMES),
        }
        this.provider = new jd.JDServerServiceProvider("pump-rig", this.services(), { deviceId: RIG_DEVICE_ID })
        this.bus.addServiceProvider(this.provider)
        await this.bus.connect()
    }

    private services() {
        const s = this.servers
        const list = [s.air, s.door, s.plunger, s.battery, s.position, s.keypad]
        if (this.pressurePlugged) list.unshift(s.pressure)
        return list
    }

    /** Pulls the pressure sensor's connector: its service leaves the bus. */
    setPressurePlugged(plugged: boolean) {
        if (plugged === this.pressurePlugged) return
        this.pressurePlugged = plugged
        this.provider.updateServices(this.services())
    }

    /** Services whose reading reports are withheld: still announced and bound, never streaming. */
    private silenced: string[] = []

    /** A sensor that stays on the bus (its role stays bound) but stops reporting its reading:
     *  only the firmware's staleness rule (SENSOR_STALE_MS) can notice. */
    setSilent(name: string, silent: boolean) {
        const srv = this.servers[name]
        if (!srv || !srv.reading) throw new Error("no sensor service '" + name + "' on the rig")
        const i = this.silenced.indexOf(name)
        if (silent && i < 0) {
            // Streaming and GET replies both go through sendGetAsync: an own no-op shadows it.
            srv.reading.sendGetAsync = async (): Promise<void> => undefined
            this.silenced.push(name)
        } else if (!silent && i >= 0) {
            delete srv.reading.sendGetAsync
            this.silenced.splice(i, 1)
        }
    }

    clearSilent() {
        for (const n of [...this.silenced]) this.setSilent(n, false)
    }

    update(r: PlantSensorReadings) {
        const s = this.servers
        const adc = Math.max(0, Math.min(4095, r.pressureAdc))
        s.pressure.reading.setValues([adc / 4095])
        s.air.reading.setValues([r.airInLine ? 1 : 0])
        s.door.reading.setValues([r.doorOpen ? 1 : 0])
        s.plunger.reading.setValues([r.plungerEngaged])
        s.battery.reading.setValues([r.batteryMv / 1000])
        s.position.reading.setValues([Math.round(r.plungerPositionUm)])
    }

    async press(key: string, holdMs = 150) {
        const i = KEY_NAMES.indexOf(key)
        if (i < 0) throw new Error("unknown key " + key)
        await this.servers.keypad.down(i)
        // On the bus's clock: wall time on the sim path, the virtual clock on the vclock path.
        this.bus.scheduler.setTimeout(() => this.servers.keypad.up(i), holdMs)
    }

    async close() {
        if (this.bus) await this.bus.disconnect()
        this.bus = undefined
    }
}
