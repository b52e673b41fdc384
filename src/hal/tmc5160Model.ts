// Register-level model of a TMC5160 behind the SpiBus interface, so the simulator, the HIL
// build and vitest run the exact driver code (hal/tmc5160.ts) that a board runs. No
// @devicescript import and no wall clock: time comes from the injected `nowMs` function.
//
// Modelled: 40-bit datagrams with the SPI_STATUS byte and the one-datagram read pipeline;
// write-only registers reading 0; GSTAT write-1-to-clear; IOIN version 0x30; the positioning
// ramp generator (RAMPMODE 0, AMAX/DMAX trapezoid, VSTART/VSTOP, V1 = 0 only) in chip units
// (v = VMAX · fCLK / 2^24 µsteps/s, a = AMAX · fCLK² / 2^41 µsteps/s², fCLK = 12 MHz);
// DRV_ENN (the power stage) separate from the ramp: with the stage off XACTUAL still follows
// the ramp but the shaft does not turn, as on the chip.
// Not modelled: chopper, currents, StallGuard values, encoder, velocity modes, A1/D1 phase.
//
// Injectable faults (inject()): "miso-high", "miso-low" (bus unplugged or shorted), "ot"
// (over-temperature shutdown), "s2g" (short to ground, phase A), "uv-reset" (supply dip: the
// chip resets every register to its power-on value), "lost-steps" (load stalls: StallGuard
// stops the ramp, so XACTUAL stops short of XTARGET).

import {
    DRV_OT, DRV_OTPW, DRV_S2GA, DRV_STALLGUARD, DRV_STST, GSTAT_DRV_ERR, GSTAT_RESET, GSTAT_UV_CP, REG_AMAX, REG_CHOPCONF, REG_D1, REG_DMAX, REG_DRV_STATUS, REG_GCONF, REG_GSTAT, REG_IOIN, REG_RAMPMODE, REG_RAMP_STAT, REG_SW_MODE, REG_VACTUAL, REG_VMAX, REG_VSTART, REG_VSTOP, REG_XACTUAL, REG_XTARGET, RS_EVENT_STOP_SG, RS_POSITION_REACHED, RS_STATUS_SG, RS_VZERO, SPI_DRIVER_ERROR, SPI_POSITION_REACHED, SPI_RESET_FLAG, SPI_STANDSTILL, SW_MODE_SG_STOP, SpiBus, TMC5160_VERSION, replyValue, toSigned32,
} from "./tmc5160"
import { umod } from "../core/units"

const FCLK = 12000000
const V_UNIT = FCLK / 16777216 // µsteps/s per VMAX unit (0.7153)
const A_UNIT = (FCLK * FCLK) / 2199023255552 // µsteps/s² per AMAX unit (65.48), 2^41
/** Power-on CHOPCONF of the model: TOFF = 0 (stage off), MRES = 0 (256 µsteps). */
export const MODEL_RESET_CHOPCONF = 0x10410150
/** Power-on GCONF: multistep_filt = 1. */
export const MODEL_RESET_GCONF = 0x00000008
/** Registers that read back as written. */
const READABLE = [REG_GCONF, REG_RAMPMODE, REG_XACTUAL, REG_XTARGET, REG_SW_MODE, REG_CHOPCONF]

export type TmcFault = "none" | "miso-high" | "miso-low" | "ot" | "s2g" | "uv-reset" | "lost-steps"

/**
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class Tmc5160Model implements SpiBus {
    private readonly nowMs: () => number
    private regs: number[] = []
    private gstat = 0
    private drvStatus = 0
    private rampStat = 0
    private pendingRead = 0
    private lastMs = -1
    /** Ramp velocity, µsteps/s, signed. */
    private v = 0
    private frac = 0
    private fault: TmcFault = "none"
    /** Enable line from the MCU (true = drive the power stage). */
    stageEnabled = false
    /** Door switch in series with the enable line: open = power stage off whatever the MCU says. */
    doorClosed = true
    /** Microsteps the shaft has turned (what moves the plunger); read with shaft(). */
    private shaftSteps = 0
    /** Datagrams seen, for tests. */
    transfers = 0

    constructor(nowMs: () => number) {
        this.nowMs = nowMs
        this.powerOn()
    }

    private powerOn() {
        this.regs = []
        for (let i = 0; i < 128; i++) this.regs.push(0)
        this.regs[REG_GCONF] = MODEL_RESET_GCONF
        this.regs[REG_CHOPCONF] = MODEL_RESET_CHOPCONF
        this.regs[REG_VSTOP] = 1
        this.regs[REG_D1] = 1
        this.gstat = GSTAT_RESET
        this.v = 0
        this.frac = 0
        this.pendingRead = 0
    }

    /** Injects a fault from now on ("uv-reset" acts once: the registers are back at reset). */
    inject(f: TmcFault) {
        this.advance()
        if (f === "uv-reset") {
            this.powerOn()
            this.gstat = GSTAT_RESET + GSTAT_UV_CP
            return
        }
        this.fault = f
        if (f === "ot") {
            this.drvStatus = this.drvStatus | DRV_OT | DRV_OTPW
            this.gstat = this.gstat | GSTAT_DRV_ERR
        } else if (f === "s2g") {
            this.drvStatus = this.drvStatus | DRV_S2GA
            this.gstat = this.gstat | GSTAT_DRV_ERR
        } else if (f === "lost-steps") {
            this.drvStatus = this.drvStatus | DRV_STALLGUARD
            this.rampStat = this.rampStat | RS_EVENT_STOP_SG | RS_STATUS_SG
        }
    }

    /** The DRV_ENN line (active low on the chip; true here = stage enabled). */
    setStageEnabled(on: boolean) {
        this.advance()
        this.stageEnabled = on
    }

    setDoorClosed(closed: boolean) {
        this.advance()
        this.doorClosed = closed
    }

    /** Microsteps the shaft has turned up to now. */
    shaft(): number {
        this.advance()
        return this.shaftSteps
    }

    xactual(): number {
        this.advance()
        return this.regs[REG_XACTUAL]
    }

    /** Runs the ramp generator up to the injected clock, in 1 ms steps while moving, and a
     *  cruise at VMAX in one stretch (cruise()). */
    advance() {
        const now = this.nowMs()
        if (this.lastMs < 0) this.lastMs = now
        while (this.lastMs < now) {
            const x = this.regs[REG_XACTUAL]
            const target = this.regs[REG_XTARGET]
            if (this.v === 0 && x === target) {
                this.lastMs = now // idle: nothing to integrate
                break
            }
            const n = this.cruise(now - this.lastMs)
            if (n > 0) this.lastMs += n
            else {
                const v0 = this.v
                const f0 = this.frac
                this.step1ms()
                this.lastMs++
                // Held still short of the target (a StallGuard stop, a zero ramp after a reset):
                // a millisecond that changed nothing changes nothing until a register is written
                // (which advances first), so the rest of the span is skipped, not iterated (a
                // 1.6 s span was 1,600 iterations: the VM's InfiniteLoop panic at chip speed).
                if (this.v === 0 && v0 === 0 && this.frac === f0 && this.regs[REG_XACTUAL] === x) {
                    this.lastMs = now
                    break
                }
            }
        }
    }

    /** While the ramp cruises at VMAX towards a target it neither brakes for nor reaches within
     *  the next n ms, those n ms at once: their whole steps are the 1 ms loop's (its distance
     *  left, |XTARGET - XACTUAL| - frac, falls by exactly v x 1 ms a step), so a slow infusion
     *  costs the VM one call per read instead of an iteration per millisecond (the rig's model:
     *  a chip's ramp generator runs in silicon). Returns the ms taken, 0 when not cruising. */
    private cruise(maxMs: number): number {
        if (maxMs < 2 || this.fault === "lost-steps") return 0
        const vmax = this.regs[REG_VMAX] * V_UNIT
        const speed = this.v < 0 ? -this.v : this.v
        if (speed <= 0 || speed !== vmax || vmax < this.regs[REG_VSTOP] * V_UNIT) return 0
        const delta = this.regs[REG_XTARGET] - this.regs[REG_XACTUAL]
        const dir = delta > 0 ? 1 : -1
        if ((this.v > 0 ? 1 : -1) !== dir || delta === 0) return 0
        const dmax = this.regs[REG_DMAX] * A_UNIT
        const stopDist = dmax > 0 ? (speed * speed) / (2 * dmax) : 0
        const perMs = speed * 0.001
        // The loop brakes in the first ms whose distance left is <= stopDist + perMs (arrival
        // needs even less); one ms of margin against rounding.
        let n = Math.floor((delta * dir - this.frac - stopDist - perMs) / perMs) - 1
        if (n > maxMs) n = maxMs
        if (n < 2) return 0
        const total = this.frac + n * perMs
        const whole = Math.floor(total)
        this.frac = total - whole
        this.regs[REG_XACTUAL] = this.regs[REG_XACTUAL] + dir * whole
        if (this.stageEnabled && this.doorClosed && !this.driverStopped()) this.shaftSteps += dir * whole
        return n
    }

    private driverStopped(): boolean {
        return this.fault === "ot" || this.fault === "s2g"
    }

    private step1ms() {
        const dt = 0.001
        const x = this.regs[REG_XACTUAL]
        const target = this.regs[REG_XTARGET]
        if (this.fault === "lost-steps" && this.regs[REG_SW_MODE] % 2048 >= SW_MODE_SG_STOP) {
            // StallGuard stop: the ramp halts where the load stalled.
            this.v = 0
            return
        }
        const vmax = this.regs[REG_VMAX] * V_UNIT
        const amax = this.regs[REG_AMAX] * A_UNIT
        const dmax = this.regs[REG_DMAX] * A_UNIT
        const vstart = this.regs[REG_VSTART] * V_UNIT
        const vstop = this.regs[REG_VSTOP] * V_UNIT
        const delta = target - x
        const absDelta = delta < 0 ? -delta : delta
        const dir = delta > 0 ? 1 : delta < 0 ? -1 : 0
        const speed = this.v < 0 ? -this.v : this.v
        const moving = this.v > 0 ? 1 : this.v < 0 ? -1 : 0
        let newSpeed = speed
        if (moving !== 0 && moving !== dir) {
            // Wrong way or past the target: brake first.
            newSpeed = speed - dmax * dt
        } else {
            const remaining = absDelta - this.frac
            const stopDist = dmax > 0 ? (speed * speed) / (2 * dmax) : 0
            if (remaining <= stopDist + speed * dt) newSpeed = speed - dmax * dt
            else newSpeed = speed === 0 ? Math.max(vstart, amax * dt) : speed + amax * dt
            if (newSpeed > vmax) newSpeed = vmax
            if (newSpeed < vstop) newSpeed = vstop
        }
        if (newSpeed <= 0) {
            this.v = 0
            this.frac = 0
            return
        }
        const sign = moving !== 0 && moving !== dir ? moving : dir
        this.v = sign * newSpeed
        this.frac += newSpeed * dt
        let whole = Math.floor(this.frac)
        if (sign === dir && whole >= absDelta) {
            // Arrive exactly at the target and stop there.
            whole = absDelta
            this.frac = 0
            this.v = 0
        } else this.frac -= whole
        if (whole > 0) {
            this.regs[REG_XACTUAL] = x + sign * whole
            if (this.stageEnabled && this.doorClosed && !this.driverStopped()) this.shaftSteps += sign * whole
        }
    }

    private readValue(addr: number): number {
        if (addr === REG_GSTAT) return this.gstat
        if (addr === REG_IOIN) return TMC5160_VERSION * 16777216 + (this.stageEnabled && this.doorClosed ? 0 : 0x10) // DRV_ENN input bit 4
        if (addr === REG_VACTUAL) return Math.round(this.v / V_UNIT)
        if (addr === REG_DRV_STATUS) {
            const stst = this.v === 0 ? DRV_STST : 0
            return this.drvStatus + stst + 16 * 65536 // cs_actual 16
        }
        if (addr === REG_RAMP_STAT) {
            let r = this.rampStat
            if (this.v === 0) r += RS_VZERO
            if (this.regs[REG_XACTUAL] === this.regs[REG_XTARGET]) r += RS_POSITION_REACHED
            return r
        }
        if (READABLE.indexOf(addr) >= 0) return this.regs[addr]
        return 0 // write-only or reserved
    }

    private spiStatus(): number {
        let s = 0
        if (this.gstat % 2 === 1) s += SPI_RESET_FLAG
        if (Math.floor(this.gstat / 2) % 2 === 1) s += SPI_DRIVER_ERROR
        if (this.v === 0) s += SPI_STANDSTILL
        if (this.regs[REG_XACTUAL] === this.regs[REG_XTARGET]) s += SPI_POSITION_REACHED
        return s
    }

    async transfer(tx: number[]): Promise<number[]> {
        this.advance()
        this.transfers++
        if (this.fault === "miso-high") return [0xff, 0xff, 0xff, 0xff, 0xff]
        if (this.fault === "miso-low") return [0, 0, 0, 0, 0]
        let u = this.readValue(this.pendingRead)
        if (u < 0) u += 4294967296
        const reply = [this.spiStatus(), Math.floor(u / 16777216) % 256, Math.floor(u / 65536) % 256, Math.floor(u / 256) % 256, umod(u, 256)]
        const addr = tx[0] % 128
        if (tx[0] >= 128) {
            const value = toSigned32(replyValue(tx))
            if (addr === REG_GSTAT) {
                // Write 1 to clear; a fault that is still present sets drv_err again.
                let g = this.gstat
                for (let bit = 1; bit <= 4; bit *= 2) if (umod(Math.floor(value / bit), 2) === 1 && umod(Math.floor(g / bit), 2) === 1) g -= bit
                if (this.driverStopped()) g = g | GSTAT_DRV_ERR
                this.gstat = g
            } else if (addr === REG_XACTUAL || addr === REG_XTARGET) this.regs[addr] = value
            else this.regs[addr] = value < 0 ? value + 4294967296 : value
            if (addr === REG_RAMP_STAT) this.rampStat = 0
        }
        this.pendingRead = addr
        return reply
    }
}
