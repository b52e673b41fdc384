// The device's services for the firmware layer (src/firmware imports no @devicescript module):
// VM clock and timers, settings flash, native HMAC-SHA256 and the hardware identifier.

import * as ds from "@devicescript/core"
import { deviceClock } from "./deviceClock"
import { deviceHmac, deviceHmacBuffer, randomBytes } from "./deviceCrypto"
import { deviceSettings } from "./settingsStore"
import { DeviceServices } from "./types"

export function createDeviceServices(): DeviceServices {
    return {
        clock: deviceClock,
        settings: deviceSettings,
        remoteHmac: deviceHmac,
        hmacSha256: deviceHmacBuffer,
        randomBytes: randomBytes,
        deviceId: () => ds.deviceIdentifier("self"),
    }
}
