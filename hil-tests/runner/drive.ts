// Applies a scenario's physical disturbances to the plant; keys, power and connectors are the
// backend's business (bus keypad, process restart, service removal, or the bench rig). What each
// backend can apply at all is in capabilities.ts; a scenario asking for more is refused first.

import type { Plant } from "../plant/api"
import type { ScenarioEvent } from "./scenario"

export function applyToPlant(plant: Plant, e: ScenarioEvent): boolean {
    switch (e.do) {
        case "occlusion":
            plant.setDownstreamOcclusion(e.closed)
            return true
        case "upstreamOcclusion":
            plant.setUpstreamOcclusion(e.closed)
            return true
        case "sensorFault":
            plant.setSensorFault(e.sensor, e.mode, e.level)
            return true
        case "bubble":
            plant.injectBubble(e.volumeUl)
            return true
        case "door":
            plant.setDoorOpen(e.open)
            return true
        case "plunger":
            plant.setPlungerEngaged(e.engaged)
            return true
        case "stall":
            plant.setMotorStalled(e.stalled)
            return true
        case "battery":
            plant.setBatteryMv(e.mv)
            return true
        case "sensor":
            if (e.fault === "unplugged") return false
            plant.setPressureSensorFault(e.fault)
            return true
        default:
            return false
    }
}

export function describe(e: ScenarioEvent): string {
    const { atS, do: what, ...rest } = e as ScenarioEvent & Record<string, unknown>
    return what + " " + JSON.stringify(rest) + " @" + atS + "s"
}
