export { createPlant } from "../../hil-tests/plant/index"
export { N_PER_MM2_PER_MMHG as N_PER_MM2_PER_MMHG_EXPORT } from "../../hil-tests/plant/plant"
