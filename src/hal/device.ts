// The device's services for the firmware layer (src/firmware imports no @devicescript module):
// VM clock and timers, settings flash, native HMAC-SHA256 and the hardware identifier.

import * as ds from "@devicescript/core"
import { deviceClock } from "./deviceClock"
import { createRemoteHmac, deviceHmacBuffer, randomBytes } from "./deviceCrypto"
import { deviceSettings } from "./settingsStore"
import { DeviceServices } from "./types"

/** The services of an image without the remote link (the HIL images; the boards with the front
 *  panel): no remote-link crypto (remoteHmac and randomBytes are null), so none of it is in the
 *  image (the VM's 64 KB of function bytecode, TODO-CODE-1). */
export function createDeviceServices(): DeviceServices {
    return {
        clock: deviceClock,
        settings: deviceSettings,
        remoteHmac: null,
        hmacSha256: deviceHmacBuffer,
        randomBytes: null,
        deviceId: () => ds.deviceIdentifier("self"),
    }
}

/** The services of an image that starts the remote link (startRemoteLink refuses a pump without
 *  them): createDeviceServices plus HMAC over byte arrays and random nonces. */
export function createRemoteDeviceServices(): DeviceServices {
    const dev = createDeviceServices()
    dev.remoteHmac = createRemoteHmac()
    dev.randomBytes = randomBytes
    return dev
}
