// Written by tools/benchDevice.ts before each probe run (the defaults below are a calibration run).
export const PROBE_SCENARIO: string = "none"
export const PROBE_SPIN: number = 1000
export const PROBE_BALLAST_BYTES: number = 0
