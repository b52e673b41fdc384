// Deliberate breakage for proving the scenarios can fail: each mutation blinds one detector by
// freezing the sensor signal it depends on, between the plant and the firmware (sim: on the
// bus; host: into the safety monitor). `npm run hil -- --mutate air ...` must make the air
// scenarios fail; test/hil/runner.test.ts checks that in every `npm test`.

import type { Plant, PlantSensorReadings } from "../plant/api"

export const MUTATIONS: Record<string, { blinds: string; apply: (r: PlantSensorReadings, first: PlantSensorReadings) => void }> = {
    air: { blinds: "air-in-line detector (always reports liquid)", apply: r => { r.airInLine = false } },
    door: { blinds: "door switch (always reports closed)", apply: r => { r.doorOpen = false } },
    occlusion: { blinds: "pressure sensor (frozen at its first reading)", apply: (r, f) => { r.pressureAdc = f.pressureAdc } },
    stall: { blinds: "position sensor (follows the fired steps, so a stall is invisible)", apply: () => undefined },
}

export function mutatePlant(plant: Plant, name: string | undefined): Plant {
    if (!name) return plant
    const m = MUTATIONS[name]
    if (!m) throw new Error("unknown mutation '" + name + "' (known: " + Object.keys(MUTATIONS).join(", ") + ")")
    const orig = plant.sensors.bind(plant)
    const first = orig()
    // Stall: report the position the fired steps imply, i.e. what a healthy drive would show.
    const startPos = first.plungerPositionUm
    const umPerStep = 1000 / 3200 // reference drive: 3200 µsteps per mm
    plant.sensors = () => {
        const r = { ...orig() }
        if (name === "stall") r.plungerPositionUm = startPos + r.firedSteps * umPerStep
        else m.apply(r, first)
        return r
    }
    return plant
}
