-- Abuse limits kept in PostgreSQL, so losing Redis never lifts them.

-- Wrong OTP guesses per phone over a long window; survives resends, cleared
-- by a right guess. A phone at the cap cannot log in until `locked_until`.
CREATE TABLE otp_lockouts (
    phone             TEXT        PRIMARY KEY,
    failures          INTEGER     NOT NULL CHECK (failures >= 0),
    window_started_at TIMESTAMPTZ NOT NULL,
    locked_until      TIMESTAMPTZ
);

-- Fixed-window counters: OTP sends and guesses per client address, the
-- global SMS budget. The cleanup job deletes windows long past.
CREATE TABLE rate_counters (
    key               TEXT        PRIMARY KEY,
    window_started_at TIMESTAMPTZ NOT NULL,
    hits              INTEGER     NOT NULL CHECK (hits >= 0)
);

CREATE INDEX rate_counters_window ON rate_counters (window_started_at);
