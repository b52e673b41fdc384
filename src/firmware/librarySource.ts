// The one library-loading rule (REQ-BUD-004): where an image's drug library comes from and whether
// it takes library updates over the remote link. Decided here only; an entry says which kind of
// image it is by the source it passes to bootFirmware (a function per kind, so each image
// compiles only its own path: the VM's 64 KB code limit).
//  - Board images (boardStart.ts): the signed library travels in the program image
//    (src/generated/boardLibrary.ts, written by `npm run druglib -- embed`); the settings flash
//    (8 KB on the RP2040) holds no library bank. It is verified with the device key at every boot
//    exactly as a stored one (HMAC, parse, DLIB_* logged); refused, the pump runs with no library.
//    An update is a redeploy of the image: no installer, so the remote link refuses a transfer at
//    LIB_BEGIN (REMOTE_REFUSED logged).
//  - Simulator and HIL images: the library persisted in settings (two banks, read back); the
//    simulator also takes remote updates (the HIL image starts no remote link).

import { LibraryStore } from "../core/druglib/store"
import { PumpController } from "../core/pump"
import { LibraryInstaller } from "../core/remote/endpoint"
import { DeviceServices } from "../hal/types"
import { restorePersisted, verifyAtBoot } from "./libraryDevice"
import { QueuedLibraryInstaller } from "./libraryInstaller"

/** Boot: loads and verifies the library (DLIB_RESTORED / DLIB_RESTORE_FAILED logged) and returns
 *  the remote link's installer (null: transfers refused). One function per kind of image. */
export type LibrarySource = (store: LibraryStore, pump: PumpController, dev: DeviceServices) => Promise<LibraryInstaller>

/** Board images: `signed` is the library built into the image (empty: none; refused at boot). */
export function boardLibrarySource(signed: Buffer): LibrarySource {
    return async (store, pump, dev) => {
        await verifyAtBoot(store, dev.clock.nowMs(), dev, signed)
        return null
    }
}

/** Simulator and HIL images: the settings-stored library and remote updates. */
export async function settingsLibrarySource(store: LibraryStore, pump: PumpController, dev: DeviceServices): Promise<LibraryInstaller> {
    await restorePersisted(store, dev.clock.nowMs(), dev)
    return new QueuedLibraryInstaller(store, pump, dev)
}

/** HIL image: the settings-stored library, and no installer (it starts no remote link; an
 *  installer object held for nothing cost the heap-1mlh-16min scenario its last heap). */
export async function hilLibrarySource(store: LibraryStore, pump: PumpController, dev: DeviceServices): Promise<LibraryInstaller> {
    await restorePersisted(store, dev.clock.nowMs(), dev)
    return null
}
