// Builds src/generated/druglibFixture.ts for the in-VM test: the sample library compiled and
// signed with a key generated for this run only (no key is ever committed).

import { mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { compileFile } from "./compile"
import { newKeyHex, sign } from "./sign"
import { tsModule } from "./tsModule"

const root = fileURLToPath(new URL("../../", import.meta.url))
const r = compileFile(root + "docs/sample-drug-library.json")
if (r.errors.length > 0) {
    for (const e of r.errors) console.error(e.path + ": " + e.message)
    process.exit(1)
}
const keyHex = newKeyHex()
const signed = sign(Buffer.from(keyHex, "hex"), r.bytes!)
mkdirSync(root + "src/generated", { recursive: true })
let text = tsModule({ SAMPLE_SIGNED: signed }, "tools/druglib/genVmFixture.ts (sample library, per-run test key)")
text += "export const TEST_KEY_HEX = \"" + keyHex + "\"\n"
writeFileSync(root + "src/generated/druglibFixture.ts", text)
console.log("src/generated/druglibFixture.ts: " + signed.length + " signed bytes, fresh test key")
