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
import { OutputLine, REG_XACTUAL, REG_XTARGET, RS_EVENT_STOP_SG, Tmc5160, Tmc5160Status, driveFault, drvFault, drvStatusText, gstatText, hasBit, toSigned32 } from "./tmc5160"

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
    private configured = false
    private enabled = false
    /** Empty while healthy; the first fault's text once latched. */
    fault = ""
    private origin = 0
    private base = 0
    private planned = 0
    private lastActual = 0
    /** Last verified XACTUAL, reported by firedCount. */
    private polledActual = 0
    private lastLag = 0
    private lastSteps = 0
    private stuck = 0
    private growing = 0
    lastStatus: Tmc5160Status = null

    constructor(chip: Tmc5160, enableLine: OutputLine) {
        this.chip = chip
        this.en = enableLine
        this.en.write(false)
    }

    /** Configures and verifies the controller (version, every readable register). Throws and
     *  latches on failure. Called at boot by the board, and by the first enable otherwise. */
    async init() {
        this.en.write(false)
        if (this.fault.length > 0) throw new Error("latched: " + this.fault)
        try {
            const x = await this.chip.configure()
            this.origin = x
            this.base = x
            this.lastActual = x
            this.polledActual = x
            this.planned = 0
            this.configured = true
        } catch (e) {
            this.latch(e)
        }
    }

    private latch(e: any) {
        // Power stage off before anything else can fail.
        this.en.write(false)
        this.enabled = false
        if (this.fault.length === 0) this.fault = e instanceof Error ? e.message : "" + e
        throw new Error("latched: " + this.fault)
    }

    async enable(on: boolean) {
        if (!on) {
            this.en.write(false)
            this.enabled = false
            // Hold: target := actual, so the ramp does not finish a stale move on a later
            // enable. Skipped once latched: the bus may be the fault, and the stage is off.
            if (this.configured && this.fault.length === 0) {
                try {
                    const x = toSigned32(await this.chip.readReg(REG_XACTUAL))
                    this.chip.checkSpiStatus()
                    await this.chip.writeReg(REG_XTARGET, x)
                    this.base = x
                    this.planned = 0
                    this.lastActual = x
                    this.polledActual = x
                } catch (e) {
                    this.latch(e)
                }
            }
            return
        }
        if (this.fault.length > 0) throw new Error("latched: " + this.fault)
        if (!this.configured) await this.init()
        try {
            // The ramp registers are write-only: re-write them, then start a new lease run at
            // the actual position and prove the chip is healthy before energising the stage.
            await this.chip.writeRamp()
            const x = toSigned32(await this.chip.readReg(REG_XACTUAL))
            await this.chip.writeReg(REG_XTARGET, x)
            this.base = x
            this.planned = 0
            this.lastActual = x
            this.lastLag = 0
            this.lastSteps = 0
            this.stuck = 0
            this.growing = 0
            await this.verify(x, 0)
        } catch (e) {
            this.latch(e)
        }
        this.en.write(true)
        this.enabled = true
    }

    async queue(steps: number, forward: boolean, windowMs: number) {
        if (this.fault.length > 0) throw new Error("latched: " + this.fault)
        if (!this.enabled) return
        if (!(steps >= 0 && Math.floor(steps) === steps)) throw new RangeError("steps out of range: " + steps)
        this.planned += forward ? steps : -steps
        const target = this.base + this.planned
        try {
            await this.chip.writeReg(REG_XTARGET, target)
            await this.verify(target, steps)
        } catch (e) {
            this.latch(e)
        }
    }

    /** Throws (the caller latches) on any sign that the chip is not doing what it was told. */
    private async verify(target: number, steps: number) {
        const st = await this.chip.readStatus()
        this.lastStatus = st
        this.chip.checkSpiStatus()
        if (st.xtarget !== target) throw driveFault("XTARGET read back " + st.xtarget + ", wrote " + target)
        if (st.chopconf !== this.chip.cfg.chopconf) throw driveFault("CHOPCONF read " + st.chopconf + ", configured " + this.chip.cfg.chopconf + " (reset to defaults?)")
        if (st.gstat !== 0) throw driveFault("GSTAT " + gstatText(st.gstat))
        if (drvFault(st.drvStatus)) throw driveFault("DRV_STATUS " + drvStatusText(st.drvStatus))
        if (hasBit(st.rampStat, RS_EVENT_STOP_SG)) throw driveFault("stall: StallGuard stopped the ramp")
        const lagRaw = target - st.xactual
        const lag = lagRaw < 0 ? -lagRaw : lagRaw
        const limit = lagLimitSteps(steps, this.lastSteps)
        if (lag > limit) throw driveFault("lag " + lag + " usteps > " + limit + " (actual " + st.xactual + ", target " + target + ")")
        this.stuck = lag > 0 && st.xactual === this.lastActual ? this.stuck + 1 : 0
        if (this.stuck >= STUCK_CHECKS) throw driveFault("XACTUAL stuck at " + st.xactual + " with " + lag + " usteps to go")
        this.growing = lag > this.lastLag && lag > LAG_SLACK_STEPS ? this.growing + 1 : 0
        if (this.growing >= GROWING_CHECKS) throw driveFault("lag growing for " + this.growing + " checks, now " + lag + " usteps")
        this.lastLag = lag
        this.lastActual = st.xactual
        this.polledActual = st.xactual
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
