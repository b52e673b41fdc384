// Buffer <-> byte-array conversion at the edges of the core (the remote interface core works on
// number[]; links and the VM's crypto work on Buffers). Index loops only: runs in the VM and Node.

export function toBuffer(a: number[]): Buffer {
    const b = Buffer.alloc(a.length)
    for (let i = 0; i < a.length; i++) b[i] = a[i]
    return b
}

export function toBytes(b: Buffer): number[] {
    const out: number[] = []
    for (let i = 0; i < b.length; i++) out.push(b[i])
    return out
}
