// TMC5160 stepper motion controller over SPI (Trinamic / Analog Devices; TMC5130A and TMC5240
// share the register family). The chip runs its own ramp generator in positioning mode, so
// the firmware only ever writes an absolute target and reads the actual position back.
//
// Pure TypeScript on purpose: no @devicescript import, so the same driver runs against the real
// bus (hal/board.ts wraps @devicescript/spi and a GPIO chip select) and against the register
// model (hal/tmc5160Model.ts) in the simulator, the HIL build and vitest.
//
// Facts used (TMC5160 datasheet rev. 1.x, register map; cross-checked with ADI's TMC-API
// tmc/ic/TMC5160/TMC5160.h access table and the Zephyr adi,tmc51xx binding):
//   40-bit datagram: address byte (bit 7 = write) + 32-bit big-endian data; SPI mode 3.
//   Every reply starts with SPI_STATUS; its data is the register addressed by the PREVIOUS
//   datagram (a read takes two transfers; reads can be pipelined).
//   Readable: GCONF, GSTAT, IOIN, RAMPMODE, XACTUAL, VACTUAL, XTARGET, SW_MODE, RAMP_STAT,
//   CHOPCONF, DRV_STATUS. Write-only (reads return 0): IHOLD_IRUN, TPOWERDOWN, VSTART, A1, V1,
//   AMAX, VMAX, DMAX, D1, VSTOP, TZEROWAIT. So "read back every written register" can only
//   cover the readable ones; the write-only ramp registers are re-written at every enable.
//   Velocity unit at fCLK = 12 MHz: v[µsteps/s] = VMAX · fCLK / 2^24 = 0.7153 · VMAX.
//   Acceleration unit: a[µsteps/s²] = AMAX · fCLK² / (512 · 256 · 2^24) = 65.48 · AMAX.

import { ByteView } from "../core/log/pageStore"
import { umod } from "../core/units"
export const REG_GCONF = 0x00
export const REG_GSTAT = 0x01
export const REG_IOIN = 0x04
export const REG_IHOLD_IRUN = 0x10
export const REG_TPOWERDOWN = 0x11
export const REG_RAMPMODE = 0x20
export const REG_XACTUAL = 0x21
export const REG_VACTUAL = 0x22
export const REG_VSTART = 0x23
export const REG_A1 = 0x24
export const REG_V1 = 0x25
export const REG_AMAX = 0x26
export const REG_VMAX = 0x27
export const REG_DMAX = 0x28
export const REG_D1 = 0x2a
export const REG_VSTOP = 0x2b
export const REG_TZEROWAIT = 0x2c
export const REG_XTARGET = 0x2d
export const REG_SW_MODE = 0x34
export const REG_RAMP_STAT = 0x35
export const REG_CHOPCONF = 0x6c
export const REG_DRV_STATUS = 0x6f

/** IOIN bits 31..24 read 0x30 on a TMC5160 (0x11 on a TMC5130). */
export const TMC5160_VERSION = 0x30

/** Internal clock (no external clock fitted): 12 MHz. */
export const FCLK_HZ = 12000000
/** µsteps/s per VMAX unit, × 1e6 (0.715256 µsteps/s = 12e6 / 2^24). */
export const VMAX_UNIT_MICRO_STEPS_PER_S = 715256
/** µsteps/s² per AMAX unit, × 1000 (65.48 µsteps/s² = 12e6² / 2^41). */
export const AMAX_UNIT_MILLI_STEPS_PER_S2 = 65484

// SPI_STATUS byte, returned with every datagram.
export const SPI_RESET_FLAG = 0x01
export const SPI_DRIVER_ERROR = 0x02
export const SPI_SG2 = 0x04
export const SPI_STANDSTILL = 0x08
export const SPI_VELOCITY_REACHED = 0x10
export const SPI_POSITION_REACHED = 0x20
export const SPI_STATUS_STOP_L = 0x40
export const SPI_STATUS_STOP_R = 0x80

// GSTAT (write 1 to clear).
export const GSTAT_RESET = 0x01
export const GSTAT_DRV_ERR = 0x02
export const GSTAT_UV_CP = 0x04

// DRV_STATUS.
export const DRV_S2VSA = 1 << 12
export const DRV_S2VSB = 1 << 13
export const DRV_STEALTH = 1 << 14
export const DRV_FSACTIVE = 1 << 15
export const DRV_STALLGUARD = 1 << 24
export const DRV_OT = 1 << 25
export const DRV_OTPW = 1 << 26
export const DRV_S2GA = 1 << 27
export const DRV_S2GB = 1 << 28
export const DRV_OLA = 1 << 29
export const DRV_OLB = 1 << 30
/** Bit 31 as an unsigned value (1 << 31 is negative in 32-bit arithmetic). */
export const DRV_STST = 2147483648

// RAMP_STAT.
export const RS_STATUS_STOP_L = 0x0001
export const RS_STATUS_STOP_R = 0x0002
export const RS_LATCH_L = 0x0004
export const RS_LATCH_R = 0x0008
export const RS_EVENT_STOP_L = 0x0010
export const RS_EVENT_STOP_R = 0x0020
export const RS_EVENT_STOP_SG = 0x0040
export const RS_EVENT_POS_REACHED = 0x0080
export const RS_VELOCITY_REACHED = 0x0100
export const RS_POSITION_REACHED = 0x0200
export const RS_VZERO = 0x0400
export const RS_T_ZEROWAIT_ACTIVE = 0x0800
export const RS_SECOND_MOVE = 0x1000
export const RS_STATUS_SG = 0x2000

/** SW_MODE bit 10: stop the ramp when StallGuard2 signals a stall (XACTUAL then stops too). */
export const SW_MODE_SG_STOP = 0x0400

/** One 5-byte datagram in, the 5 bytes clocked out during it back (chip select around it is
 *  the bus's job: the board wraps a GPIO, the model needs none). */
export interface SpiBus {
    /** The reply: a number[] or a Buffer (read by index only). */
    transfer(tx: number[]): Promise<ByteView>
}

/** A digital output the driver owns (driver enable). */
export interface OutputLine {
    write(high: boolean): void
}

/** A drive error: the message says what the controller reported (for the DRIVE_FAULT record). */
export function driveFault(message: string): Error {
    return new Error("TMC5160: " + message)
}

const TWO_32 = 4294967296
const TWO_31 = 2147483648


/** One 40-bit datagram: `first` (address, +0x80 to write), then the 32-bit value as 4
 *  big-endian bytes (negative values two's complement). */
export function datagram(first: number, value: number): number[] {
    let u = value < 0 ? value + TWO_32 : value
    const d = [first, 0, 0, 0, 0]
    for (let i = 4; i > 0; i--) {
        const q = Math.floor(u / 256)
        d[i] = u - q * 256
        u = q
    }
    return d
}

/** Unsigned value of reply bytes 1..4. */
export function replyValue(rx: ByteView): number {
    return rx[1] * 16777216 + rx[2] * 65536 + rx[3] * 256 + rx[4]
}

export function toSigned32(u: number): number {
    return u >= TWO_31 ? u - TWO_32 : u
}

/** Bit test that works for bit 31 without signed 32-bit arithmetic. */
export function hasBit(value: number, bit: number): boolean {
    return umod(Math.floor(value / bit), 2) === 1
}

/** The names of the set bits of `value`, counting up from bit `firstBit` (a power of two), space
 *  separated, or "-" when none is set. `labels` names those consecutive bits in order, space
 *  separated; an empty name skips a bit. One text literal per register (image data) instead of
 *  two arrays built in code: the 64 KB function-bytecode budget. */
export function bitNames(value: number, firstBit: number, labels: string): string {
    let t = ""
    let bit = firstBit
    let start = 0
    for (let i = 0; i <= labels.length; i++) {
        if (i === labels.length || labels.charCodeAt(i) === 32) {
            if (i > start && hasBit(value, bit)) t += " " + labels.slice(start, i)
            bit *= 2
            start = i + 1
        }
    }
    return t.length > 0 ? t.slice(1) : "-"
}

export function spiStatusText(s: number): string {
    return bitNames(s, SPI_RESET_FLAG, "reset_flag driver_error sg2 standstill velocity_reached position_reached status_stop_l status_stop_r")
}

/** GSTAT bit names (as the text, so callers use bitNames directly). */
export const GSTAT_NAMES = "reset drv_err uv_cp"

export function gstatText(g: number): string {
    return bitNames(g, GSTAT_RESET, GSTAT_NAMES)
}

export function drvStatusText(d: number): string {
    // Flag bits 12..15 and 24..31 (bits 16..23 unnamed: CS_ACTUAL is bits 20..16); SG_RESULT bits 9..0.
    return bitNames(d, DRV_S2VSA, "s2vsa s2vsb stealth fsactive         stallGuard ot otpw s2ga s2gb ola olb stst") + " cs_actual=" + umod(Math.floor(d / 65536), 32) + " sg_result=" + umod(d, 1024)
}

export function rampStatText(r: number): string {
    return bitNames(
        r,
        RS_STATUS_STOP_L,
        "status_stop_l status_stop_r latch_l latch_r event_stop_l event_stop_r event_stop_sg event_pos_reached velocity_reached position_reached vzero t_zerowait_active second_move status_sg"
    )
}

/** Driver-stage faults that stop delivery: over-temperature (ot, bit 25), shorts to GND (s2ga/b,
 *  bits 27, 28) or supply (s2vsa/b, bits 12, 13), and a StallGuard stall (bit 24). (otpw, open
 *  load and standstill are reported but are not faults alone: open-load flags are unreliable at
 *  standstill per the datasheet.) Masks on the top byte and on bits 12..13, no table: the
 *  64 KB function-bytecode budget. */
export function drvFault(d: number): boolean {
    return ((Math.floor(d / DRV_STALLGUARD) & 0x1b) | (Math.floor(d / DRV_S2VSA) & 3)) !== 0
}

/** Register settings for one drive, in chip units: one 8-hex-digit word per register of
 *  CFG_WRITES after GSTAT, in that order, space-separated: GCONF CHOPCONF IHOLD_IRUN TPOWERDOWN
 *  SW_MODE RAMPMODE VSTART A1 V1 AMAX VMAX DMAX D1 VSTOP TZEROWAIT. A text, not an object: text is
 *  image data, an object literal is code in `main` (the 64 KB function-bytecode budget). */
export type Tmc5160Config = string

/** Registers written by configure, in write order, as the char codes of a text (image data, not
 *  code): GSTAT (clear), GCONF, CHOPCONF, IHOLD_IRUN, TPOWERDOWN, SW_MODE, RAMPMODE, then from
 *  RAMP_FIRST the write-only ramp registers VSTART, A1, V1, AMAX, VMAX, DMAX, D1, VSTOP, TZEROWAIT. */
const CFG_WRITES = "\x01\x00\x6c\x10\x11\x34\x20\x23\x24\x25\x26\x27\x28\x2a\x2b\x2c"
/** Index in CFG_WRITES of the first ramp register. */
export const RAMP_FIRST = 7

/** Register-level driver. Every reply's SPI_STATUS byte is checked: a reset or driver-error
 *  flag, or a reply that cannot come from a TMC5160 (MISO stuck high reads 0xFF), throws.
 * @devsWhenUsed only the methods an image calls are compiled in (docs/requirements.md TODO-CODE-1)
 */
export class Tmc5160 {
    private readonly bus: SpiBus
    /** The value written to each register of CFG_WRITES: GSTAT's clear-all value, then the words
     *  of the configuration. */
    readonly regs: number[]
    lastSpiStatus = 0

    constructor(bus: SpiBus, cfg: Tmc5160Config) {
        this.bus = bus
        const v = [GSTAT_RESET + GSTAT_DRV_ERR + GSTAT_UV_CP]
        for (let i = 0; i < cfg.length; i += 9) {
            let w = 0
            for (let j = i; j < i + 8; j++) w = w * 16 + "0123456789abcdef".indexOf(cfg.charAt(j))
            v.push(w)
        }
        this.regs = v
    }

    /** One datagram (`first`: address, +0x80 to write); the reply's unsigned value (the register
     *  addressed by the previous datagram), its SPI_STATUS byte in lastSpiStatus. */
    async xfer(first: number, value: number): Promise<number> {
        // One array per datagram (this runs 8 times a tick; every allocation counts on a 64 KB heap).
        const rx = await this.bus.transfer(datagram(first, value))
        if (!rx || rx.length !== 5) throw driveFault("SPI reply of wrong length")
        this.lastSpiStatus = rx[0]
        return replyValue(rx)
    }

    /** Reads the registers whose addresses are the char codes of `addrs` in one pipelined run
     *  (n + 1 datagrams); unsigned values, and the SPI_STATUS byte of the last reply in
     *  lastSpiStatus. */
    async readRegs(addrs: string): Promise<number[]> {
        const out: number[] = []
        const n = addrs.length
        await this.xfer(addrs.charCodeAt(0), 0)
        for (let i = 1; i <= n; i++) out.push(await this.xfer(addrs.charCodeAt(i < n ? i : n - 1), 0))
        return out
    }

    /** Full configuration: version check (IOIN version byte 0x30: a TMC5160), clear GSTAT, write
     *  every register, read back the readable ones. Leaves XTARGET = XACTUAL (no motion) and
     *  returns XACTUAL. */
    async configure(): Promise<number> {
        const version = Math.floor((await this.readRegs("\x04"))[0] / 16777216)
        if (version !== TMC5160_VERSION) throw driveFault("IOIN version " + version + ", expected 48 (TMC5160)")
        await this.writeCfg(0)
        const x = toSigned32((await this.readRegs("\x21"))[0]) // XACTUAL
        await this.xfer(REG_XTARGET + 0x80, x)
        // GCONF, CHOPCONF, SW_MODE, RAMPMODE (entries 1, 2, 5, 6 of CFG_WRITES), XTARGET, GSTAT.
        const got = await this.readRegs("\x00\x6c\x34\x20\x2d\x01")
        for (let i = 0; i < 4; i++) {
            const want = this.regs["\x01\x02\x05\x06".charCodeAt(i)]
            if (got[i] !== want) throw driveFault("register " + "\x00\x6c\x34\x20".charCodeAt(i) + " read back " + got[i] + ", wrote " + want)
        }
        if (toSigned32(got[4]) !== x) throw driveFault("XTARGET read back " + toSigned32(got[4]) + ", wrote " + x)
        if (got[5] !== 0) throw driveFault("GSTAT " + bitNames(got[5], GSTAT_RESET, GSTAT_NAMES) + " after clearing")
        this.checkSpiStatus()
        return x
    }

    /** Writes CFG_WRITES from entry `from` on (0: everything; RAMP_FIRST: the ramp registers,
     *  which are write-only on the chip, so they are re-written at every enable). */
    async writeCfg(from: number) {
        for (let i = from; i < 16; i++) await this.xfer(CFG_WRITES.charCodeAt(i) + 0x80, this.regs[i])
    }

    /** Throws on a status byte that says the chip reset, has a driver error, or cannot be a
     *  chip answering (all ones: MISO stuck high or unplugged with a pull-up). */
    checkSpiStatus() {
        const s = this.lastSpiStatus
        if (s === 0xff) throw driveFault("SPI status 0xFF: no controller answering (MISO stuck high)")
        if (s & (SPI_RESET_FLAG | SPI_DRIVER_ERROR)) throw driveFault((s & SPI_RESET_FLAG ? "controller reset" : "driver error") + " (SPI status " + spiStatusText(s) + ")")
    }
}

/** Reference drive settings: 16 microsteps (MRES = 4, matching REFERENCE_MECHANICS; the reset
 *  value MRES = 0 would be 256 microsteps, 16× too slow), spreadCycle, TOFF = 3.
 *  Ramp: VMAX 16777 (12000 µsteps/s = 3.75 mm/s, above the 9448 µsteps/s that 1200 mL/h needs on
 *  a 5 mL syringe), AMAX = DMAX = 3054 (200000 µsteps/s²), V1 = 0 (A1/D1 phase off; D1 must
 *  not be 0 in positioning mode), VSTART = VSTOP = 140 (100 µsteps/s, so a single-step move
 *  at the lowest rates ends within 10 ms). StallGuard stop on (SW_MODE.sg_stop). */
export const REFERENCE_TMC_CONFIG: Tmc5160Config =
    "00000008 " + // GCONF: multistep_filt on, en_pwm_mode off (spreadCycle), shaft normal
    "14410153 " + // CHOPCONF: TOFF 3, HSTRT 5, HEND 2, TBL 2, MRES 4 (16 µsteps), intpol
    "00061008 " + // IHOLD_IRUN: IHOLD 8, IRUN 16, IHOLDDELAY 6
    "0000000a " + // TPOWERDOWN 10
    "00000400 " + // SW_MODE: sg_stop (SW_MODE_SG_STOP)
    "00000000 " + // RAMPMODE 0: positioning
    "0000008c " + // VSTART 140
    "00000bee " + // A1 3054
    "00000000 " + // V1 0
    "00000bee " + // AMAX 3054
    "00004189 " + // VMAX 16777
    "00000bee " + // DMAX 3054
    "00000bee " + // D1 3054
    "0000008c " + // VSTOP 140
    "00000000" //    TZEROWAIT 0
