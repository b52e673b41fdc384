// Event-log kinds: a closed set, so a misspelt kind in a `record` call or a comparison does not
// compile. The names are what the log, its export lines and the HIL runner print.

export type EventKind =
    // alarms (alarmManager.ts, pump.ts)
    | "ALARM"
    | "ALARM_ON"
    | "ALARM_ACK"
    | "ALARM_CLEAR"
    | "ALARM_EXTRA"
    | "ALARM_UNKNOWN"
    | "AUDIO_PAUSE"
    | "AUDIO_PAUSE_END"
    // safety monitor and its detectors
    | "AIR_HISTORY_RESET"
    | "BACKOFF_START"
    | "BACKOFF_END"
    | "LOOP_LATE"
    | "WATCHDOG"
    | "SAFETY_SYRINGE"
    | "SENSOR_GARBLED"
    | "SENSOR_GARBLED_END"
    | "SENSOR_RANGE"
    // pump state machine and programs
    | "STATE"
    | "PROGRAM"
    | "TITRATE"
    | "BOLUS_SET"
    | "BOLUS_DONE"
    | "VTBI_DONE"
    | "LOADING_SET"
    | "LOADING_DONE"
    | "DRUG_CONCENTRATION"
    | "DOSE_LIMIT_SET"
    | "STANDBY"
    | "CMD_REJECTED"
    | "OUT_OF_SERVICE"
    | "CE_CLEARED"
    | "CLOCK_BACKWARDS"
    | "LOOP_OVERRUN"
    // power loss and restart
    | "POWER_RESTORED"
    /** A settings write whose read-back failed (REQ-PERS-010). */
    | "SETTINGS_WRITE_FAILED"
    // power-on self-test
    | "SELFTEST_PASS"
    | "SELFTEST_FAIL"
    | "SELFTEST_NOTE"
    | "SELFTEST_ERROR"
    // drug library and dose error reduction
    | "DERS_PROGRAM"
    | "DERS_TITRATE"
    | "DERS_BOLUS"
    | "DERS_OVERRIDE"
    | "DERS_REFUSED"
    | "DLIB_INSTALLED"
    | "DLIB_RESTORED"
    | "DLIB_REJECTED"
    | "DLIB_RESTORE_FAILED"
    | "DLIB_NO_KEY"
    | "LIBRARY_UPDATE"
    // front panel (src/core/ui/panel.ts, src/firmware/panel.ts)
    | "UI_SOFT_LIMIT"
    | "UI_BASIC_MODE"
    | "UI_TIMEOUT"
    | "UI_LOCK"
    | "UI_UNLOCK"
    | "UI_CMD_REFUSED"
    // remote link
    | "REMOTE_KEY"
    | "REMOTE_DROP"
    | "REMOTE_ERROR"
    | "REMOTE_REFUSED"
    /** A locked role re-synchronised by the authenticated challenge (REQ-SEC-012). */
    | "REMOTE_RESYNC"
    /** At boot: a role's replay counter is not proven current, so the role is locked (REQ-SEC-011). */
    | "REMOTE_LOCKED"
    // host test harness only (hil-tests/host closed loop marks scenario steps in the log)
    | "SCENARIO"
