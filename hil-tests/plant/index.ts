// Plant factory: the one entry point the HIL runner, the safety benchmark and the bench tool use.

import { Plant } from "./api"
import { defaultPlantConfig, PlantConfig, PlantModel } from "./plant"

export type { Plant, PlantDrive, PlantSensorReadings, PlantTruth, Instruments } from "./api"
export { defaultPlantConfig, PlantModel, syringeComplianceFor } from "./plant"
export type { PlantConfig, PressureSensorConfig } from "./plant"

/** Creates a plant; any field not given takes the documented default (see plant.ts). */
export function createPlant(config: Partial<PlantConfig> = {}): Plant & PlantModel {
    return new PlantModel(defaultPlantConfig(config))
}
