// What the firmware keeps in settings flash: slot counts and sizes, library chunking and key
// names, in one place so the settings budget (settingsBudget.ts) counts what the firmware writes.

/** 16 records x 128 bytes for the log ring (15 guaranteed records; the RAM log keeps 64): 32 left
 *  the RP2040's 8 KB settings area too little free space for 10 years of wear (REQ-BUD-005). */
export const LOG_SLOTS = 16
export const LOG_SLOT_BYTES = 128
/** Cells: snapshot (slots 0-1), maintenance (2-3), replay counters (4-5). */
export const CELL_SLOTS = 6
export const CELL_SLOT_BYTES = 192
/** Progress cell ("pp0", "pp1"): "<snapshot version>,<steps>,<bolus steps>" plus the 18-byte
 *  record overhead and its 1-char name. */
export const PROGRESS_SLOT_BYTES = 40
/** Settings key of the per-device drug-library HMAC key (64 hex digits). Keys are at most 13 characters. */
export const KEY_SETTING = "DERSKEY"
/** Commit record "<bank><chunks>,<bytes>", e.g. "A33,6176"; written after all chunks. */
export const CUR_SETTING = "dlib.cur"
/** A settings value travels in one Jacdac packet (236-byte payload incl. the key). */
export const CHUNK_BYTES = 192
