// Drug library as the firmware holds it after parsing the compact form (docs/drug-library.md).
// Every number is a whole number in the unit named by its field; NONE marks an absent limit.

export const NONE = -1

/** Inclusive bounds. A value outside hardMin..hardMax is refused; outside softMin..softMax it
 *  needs an explicit, logged confirmation. Any bound may be NONE. */
export interface Limits {
    hardMin: number
    softMin: number
    softMax: number
    hardMax: number
}

export interface Concentration {
    /** Drug amount in thousandths of the entry's concentration amount unit. */
    amount: number
    /** Diluent volume in µL. */
    volumeUl: number
}

/** A bolus or loading dose: an amount (per kg if the unit says so) delivered over a duration. */
export interface DoseSpec {
    /** Amount unit code, optionally per kg (no time base). */
    unit: number
    /** Dose limits in thousandths of `unit`. */
    dose: Limits
    defaultDose: number
    /** Delivery time limits in s (the bolus rate limit: a minimum time is a maximum rate). */
    durationS: Limits
    defaultDurationS: number
}

export interface DoseWindow {
    /** Unit code of `maxAmount` (amount, optionally per kg). */
    unit: number
    /** Maximum amount in thousandths of `unit` delivered in any `minutes` window. */
    maxAmount: number
    minutes: number
}

export interface DrugEntry {
    drug: string
    /** Rate unit code, e.g. mcg/kg/min; "mL/h" for flow-rate-only entries. */
    doseUnit: number
    /** Continuous dose limits in thousandths of doseUnit. */
    dose: Limits
    defaultDose: number
    /** Patient weight limits in g; required limits for weight-based units. */
    weightG: Limits
    /** Amount unit code of the concentrations (mg, units, ...); AMT_ML for flow-only entries. */
    concUnit: number
    concentrations: Concentration[]
    /** Limits for a concentration typed in by the clinician, in thousandths of concUnit per mL;
     *  all NONE when only the listed concentrations are allowed. */
    customConc: Limits
    bolus: DoseSpec
    loading: DoseSpec
    window: DoseWindow
    /** KVO rate in µL/h after VTBI; 0 stops at VTBI. */
    kvoUlPerH: number
}

/** A care area as held on the device: names and byte offsets only. Entries are decoded from the
 *  library bytes when a drug is selected, so RAM holds one entry at a time, not the whole tree
 *  (the whole tree does not fit the VM heap next to the pump). */
export interface CareArea {
    name: string
    /** Flow limits in µL/h for the "basic infusion" (a drug not in the library) in this area. */
    basicRateUlPerH: Limits
    drugs: string[]
    offsets: number[]
}

export interface DrugLibrary {
    /** Monotonic version; the firmware never installs a lower one. */
    version: number
    /** Release date as yyyymmdd. */
    date: number
    name: string
    careAreas: CareArea[]
    /** The validated compact bytes the entries are decoded from. */
    bytes: any
}

/** The full tree a compiler writes (host side). */
export interface CareAreaSource {
    name: string
    basicRateUlPerH: Limits
    entries: DrugEntry[]
}

export interface LibrarySource {
    version: number
    date: number
    name: string
    careAreas: CareAreaSource[]
}

export function noLimits(): Limits {
    return { hardMin: NONE, softMin: NONE, softMax: NONE, hardMax: NONE }
}

/** True when v is outside lo..hi (one call instead of two compares at each range check). */
export function outside(v: number, lo: number, hi: number): boolean {
    return v < lo || v > hi
}
