// Bridges the remote interface's synchronous LibraryInstaller to the device's asynchronous
// install (verify MAC, parse with yields, persist to settings). The quick checks (pump state,
// device key, MAC) answer the remote request at once; the rest runs in the background and its
// outcome is logged as DLIB_INSTALLED or DLIB_REJECTED with the library still in force.

import { CommandResult, PumpController } from "../core/pump"
import { LibraryInstaller } from "../core/remote/endpoint"
import { LibraryStore, MAC_BYTES } from "../core/druglib/store"
import { installSigned } from "./libraryDevice"
import { DeviceServices } from "../hal/types"

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class QueuedLibraryInstaller implements LibraryInstaller {
    private readonly store: LibraryStore
    private readonly pump: PumpController
    private readonly dev: DeviceServices
    private busy = false

    constructor(store: LibraryStore, pump: PumpController, dev: DeviceServices) {
        this.store = store
        this.pump = pump
        this.dev = dev
    }

    inProgress(): boolean {
        return this.busy
    }

    install(nowMs: number, image: Buffer): CommandResult {
        if (this.busy) return this.store.reject(nowMs, "DLIB_REJECTED", "another library install is in progress")
        if (!image || image.length <= MAC_BYTES) return this.store.reject(nowMs, "DLIB_REJECTED", "too short to hold a MAC")
        const bodyLen = image.length - MAC_BYTES
        const g = this.store.gate(this.pump.state(), image.slice(0, bodyLen), image.slice(bodyLen, image.length))
        if (g.length > 0) return this.store.reject(nowMs, "DLIB_REJECTED", g)
        this.busy = true
        const self = this
        self.dev.clock.after(0, async () => {
            try {
                // installSigned re-checks the pump state: an infusion programmed meanwhile wins.
                await installSigned(self.store, self.pump.state(), image, self.dev.clock.nowMs(), self.dev)
            } finally {
                self.busy = false
            }
        })
        return { ok: true, reason: "MAC verified; parsing and persisting, outcome logged as DLIB_INSTALLED or DLIB_REJECTED" }
    }
}
