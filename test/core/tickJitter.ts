// Deterministic tick jitter for host tests (xorshift32): the intervals a VM timer delivers
// around its period, reproducible from a seed.

/** Returns a generator of tick intervals in minMs..maxMs (inclusive). */
export function tickJitter(seed: number, minMs: number, maxMs: number): () => number {
    let x = seed >>> 0 || 1
    return () => {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        return minMs + ((x >>> 0) % (maxMs - minMs + 1))
    }
}
