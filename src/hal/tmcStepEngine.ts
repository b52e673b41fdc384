// StepEngine on a TMC5160 in positioning mode: position lease, stop and step verification.
// Pure TypeScript (no @devicescript import): the board, simulator and HIL adapters differ only
// in the SpiBus and enable line they hand in (real bus, or the register model).
//
// Position lease: the chip only ever holds an ABSOLUTE target, XTARGET = base + cumulative
// microsteps the planner has issued. Writing it twice is harmless (idempotent), and it is never
// ahead of what the plan owes at the tick that wrote it: the planner issues only steps already
// owed by elapsed time. If the VM hangs, the chip stops at that target, so a hung VM moves the
// plunger at most target − XACTUAL further, and that distance is bounded every tick by the lag
// check below (lagLimitSteps). Over-delivery beyond the plan: none.
//
// Stop: enable(false) drops the enable line FIRST (power stage off, no SPI needed), then sets
// XTARGET := XACTUAL so a later enable cannot resume a stale move. The door switch is in series
// with the same line on the board (docs/boards.md), so an open door stops the motor even with
// the VM hung.
//
// Step verification, every queue(): SPI status byte (reset / driver error / all-ones), XTARGET
// read back, CHOPCONF still ours (a chip reset puts it back to MRES 256, TOFF 0), GSTAT clear,
// DRV_STATUS fault bits, StallGuard stop event, and the target − actual lag. Any failure drops
// the enable line and latches: every later enable(true)/queue() throws, so the control loop's
// catch raises DRIVE_FAULT and the drive never resumes on default settings. Only a new engine
// (a reboot, which reconfigures and re-verifies everything) clears it.

import { StepEngine } from "./types"
import { OutputLine, RAMP_FIRST, REG_XTARGET, RS_EVENT_STOP_SG, Tmc5160, GSTAT_NAMES, bitNames, driveFault, drvFault, drvStatusText, hasBit, toSigned32 } from "./tmc5160"

/** Lag allowed on top of 3 ticks' worth of steps: ramp rounding and the VSTART/VSTOP step. */
export const LAG_SLACK_STEPS = 16
/** Verifications in a row with steps to go but XACTUAL unchanged (≈ 60 ms at 20 ms ticks). */
export const STUCK_CHECKS = 3
/** Verifications in a row with the lag growing beyond the slack (≈ 160 ms). */
export const GROWING_CHECKS = 8

/** Lag bound for a tick that queued `steps` after one that queued `lastSteps`: the chip's VMAX
 *  and AMAX are well above the planner's, so a healthy chip is never more than the last few
 *  ticks' steps behind. */
export function lagLimitSteps(steps: number, lastSteps: number): number {
    return 3 * (steps > lastSteps ? steps : lastSteps) + LAG_SLACK_STEPS
}

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class TmcStepEngine implements StepEngine {
    readonly chip: Tmc5160
    private readonly en: OutputLine
    /** Empty while healthy; the first fault's text once latched. */
    fault = ""
    private origin = 0
    /** Last verified XACTUAL, reported by firedCount. */
    private polledActual = 0
    // Set before first use (init/enable), so no initialisers: each costs image bytes (TODO-CODE-1).
    // configured/enabled start undefined, which reads as false.
    private configured: boolean
    private enabled: boolean
    private base: number
    private planned: number
    private lastActual: number
    private lastLag: number
    private lastSteps: number
    private stuck: number
    private growing: number

    constructor(chip: Tmc5160, enableLine: OutputLine) {
        this.chip = chip
        this.en = enableLine
        this.en.write(false)
    }

    /** Configures and verifies the controller (version, every readable register). Throws and
     *  latches on failure. Called at boot by the board, and by the first enable otherwise. */
    async init() {
        await this.step(0, false, 0)
    }

    async enable(on: boolean) {
        await this.step(on ? 1 : 2, false, 0)
    }

    async queue(steps: number, forward: boolean, windowMs: number) {
        await this.step(3, forward, steps)
    }

    /** Every command in one place, so there is one latch path. `op`: 0 init, 1 enable, 2 disable,
     *  3 queue `steps`. Any failure drops the enable line first (power stage off before anything
     *  else can fail), keeps the first fault's text and throws "latched: <fault>". */
    private async step(op: number, forward: boolean, steps: number) {
        const chip = this.chip
        if (op !== 1 && op !== 3) this.en.write(false)
        if (op === 2) {
            this.enabled = false
            // Hold: target := actual, so the ramp does not finish a stale move on a later
            // enable. Skipped once latched: the bus may be the fault, and the stage is off.
            if (!this.configured || this.fault) return
        } else if (this.fault) throw new Error("latched: " + this.fault)
        if (op === 3) {
            if (!this.enabled) return
            if (!(steps >= 0 && Math.floor(steps) === steps)) throw new RangeError("steps out of range: " + steps)
        }
        if (op === 1 && !this.configured) await this.step(0, false, 0)
        try {
            if (op === 3) {
                this.planned += forward ? steps : -steps
                const target = this.base + this.planned
                await chip.xfer(REG_XTARGET + 0x80, target)
                await this.verify(target, steps)
                return
            }
            if (op === 1) {
                // The ramp registers are write-only: re-write them, then start a new lease run at
                // the actual position and prove the chip is healthy before energising the stage.
                await chip.writeCfg(RAMP_FIRST)
            }
            const x = op === 0 ? await chip.configure() : toSigned32((await chip.readRegs("\x21"))[0]) // XACTUAL
            if (op === 2) chip.checkSpiStatus()
            if (op !== 0) await chip.xfer(REG_XTARGET + 0x80, x)
            this.base = x
            this.planned = 0
            this.lastActual = x
            if (op === 0) {
                this.origin = x
                this.configured = true
            }
            if (op !== 1) this.polledActual = x
            else {
                this.lastLag = 0
                this.lastSteps = 0
                this.stuck = 0
                this.growing = 0
                await this.verify(x, 0)
            }
        } catch (e) {
            // Power stage off before anything else can fail.
            this.en.write(false)
            this.enabled = false
            if (!this.fault) this.fault = e instanceof Error ? e.message : "" + e
            throw new Error("latched: " + this.fault)
        }
        if (op === 1) {
            this.en.write(true)
            this.enabled = true
        }
    }

    /** Throws (the caller latches) on any sign that the chip is not doing what it was told. */
    private async verify(target: number, steps: number) {
        const chip = this.chip
        // XACTUAL, XTARGET, CHOPCONF, GSTAT, DRV_STATUS, RAMP_STAT in one pipelined run of 7 datagrams.
        const v = await chip.readRegs("\x21\x2d\x6c\x01\x6f\x35")
        const actual = toSigned32(v[0])
        const xtarget = toSigned32(v[1])
        chip.checkSpiStatus()
        let f = ""
        const lagRaw = target - actual
        const lag = lagRaw < 0 ? -lagRaw : lagRaw
        const limit = lagLimitSteps(steps, this.lastSteps)
        if (xtarget !== target) f = "XTARGET read back " + xtarget + ", wrote " + target
        else if (v[2] !== chip.regs[2]) f = "CHOPCONF read " + v[2] + ", configured " + chip.regs[2] + " (reset to defaults?)"
        else if (v[3] !== 0) f = "GSTAT " + bitNames(v[3], 1, GSTAT_NAMES)
        else if (drvFault(v[4])) f = "DRV_STATUS " + drvStatusText(v[4])
        else if (hasBit(v[5], RS_EVENT_STOP_SG)) f = "stall: StallGuard stopped the ramp"
        else if (lag > limit) f = "lag " + lag + " usteps > " + limit + " (actual " + actual + ", target " + target + ")"
        else {
            this.stuck = lag > 0 && actual === this.lastActual ? this.stuck + 1 : 0
            this.growing = lag > this.lastLag && lag > LAG_SLACK_STEPS ? this.growing + 1 : 0
            if (this.stuck >= STUCK_CHECKS) f = "XACTUAL stuck at " + actual + " with " + lag + " usteps to go"
            else if (this.growing >= GROWING_CHECKS) f = "lag growing for " + this.growing + " checks, now " + lag + " usteps"
        }
        if (f) throw driveFault(f)
        this.lastLag = lag
        this.lastActual = actual
        this.polledActual = actual
        this.lastSteps = steps
    }

    /** Position from XACTUAL (µsteps since configuration) as last read by a verified
     *  enable/queue. No SPI here: firedCount is called from other tasks (sensor read, status
     *  lines) and a datagram of theirs between two of the control tick's would break the
     *  one-datagram read pipeline (a real bug seen in HIL: a read overtaken by a stop). So
     *  only the control tick touches the bus, and a dead bus never reaches the safety monitor
     *  as a position. The pusher potentiometer cross-checks this value. */
    async firedCount(): Promise<number> {
        return this.polledActual - this.origin
    }
}
