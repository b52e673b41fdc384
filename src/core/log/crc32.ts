// CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320): detects torn or rotted flash records.
// Table-driven so a 128-byte slot costs 256 table look-ups, not 1024 shift steps, in the VM.

import type { ByteView } from "./pageStore"

// Nibble table (16 entries, two look-ups a byte): 0.15 KB of VM heap where the byte table took
// 2.1 KB as a number[] (TODO-HEAP-1), and 64 loop steps to build where a 256 x 4-byte Buffer
// table's build alone ran past the VM's per-turn opcode limit at boot.
let table: number[] = null

/** CRC-32 of bytes[from..to) as an unsigned 32-bit number. */
export function crc32(bytes: ByteView, from: number, to: number): number {
    if (!table) {
        table = []
        for (let n = 0; n < 16; n++) {
            let c = n
            for (let k = 0; k < 4; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
            table.push(c >>> 0)
        }
    }
    const t = table
    let c = 0xffffffff
    for (let i = from; i < to; i++) {
        const b = bytes[i]
        c = t[(c ^ b) & 0x0f] ^ (c >>> 4)
        c = t[(c ^ (b >>> 4)) & 0x0f] ^ (c >>> 4)
    }
    return (c ^ 0xffffffff) >>> 0
}

/** CRC-32 of an ASCII string's character codes (its bytes as Buffer.from writes them: UTF-8,
 *  the same bytes for ASCII; exported lines are printable ASCII). A Buffer: 1 byte of VM heap a
 *  character where a number[] took 8, and no loop in bytecode. */
export function crc32Text(s: string): number {
    const b = Buffer.from(s)
    return crc32(b, 0, b.length)
}

const HEX = "0123456789abcdef"

/** Fixed-width lower-case hex of an unsigned 32-bit value. */
export function hex32(v: number): string {
    let s = ""
    for (let i = 7; i >= 0; i--) s += HEX.charAt((v >>> (i * 4)) & 0xf)
    return s
}
