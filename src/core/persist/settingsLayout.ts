// What the firmware keeps in settings flash: slot counts and sizes, library chunking and key
// names, in one place so the settings budget (settingsBudget.ts) counts what the firmware writes.

/** 32 records x 128 bytes = 4 KB of settings flash for the log ring (31 guaranteed records). */
export const LOG_SLOTS = 32
export const LOG_SLOT_BYTES = 128
/** Cells: snapshot (slots 0-1), maintenance (2-3), replay counters (4-5). */
export const CELL_SLOTS = 6
export const CELL_SLOT_BYTES = 192
/** Settings key of the per-device drug-library HMAC key (64 hex digits). Keys are at most 13 characters. */
export const KEY_SETTING = "DERSKEY"
/** Commit record "<bank><chunks>,<bytes>", e.g. "A33,6176"; written after all chunks. */
export const CUR_SETTING = "dlib.cur"
/** A settings value travels in one Jacdac packet (236-byte payload incl. the key). */
export const CHUNK_BYTES = 192
