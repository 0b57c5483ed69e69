-- Identity and fleet: users of all three roles, OTP challenges, login
-- sessions (refresh tokens), device tokens, vehicles.

-- One table for customers, transporters and drivers; a phone may hold one
-- account per role. A driver belongs to exactly one transporter.
CREATE TABLE users (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    phone              TEXT        NOT NULL CHECK (phone ~ '^[6-9][0-9]{9}$'),
    role               TEXT        NOT NULL CHECK (role IN ('customer', 'transporter', 'driver')),
    name               TEXT,
    email              TEXT,
    company            TEXT,
    gst_number         TEXT,
    pan_number         TEXT,
    address            TEXT,
    city               TEXT,
    state              TEXT,
    profile_photo      TEXT,
    license_number     TEXT,
    preferred_language TEXT,
    transporter_id     UUID REFERENCES users (id),
    is_verified        BOOLEAN     NOT NULL DEFAULT false,
    is_active          BOOLEAN     NOT NULL DEFAULT true,
    last_seen_at       TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (phone, role),
    CHECK ((role = 'driver') = (transporter_id IS NOT NULL))
);
CREATE INDEX users_transporter_idx ON users (transporter_id) WHERE transporter_id IS NOT NULL;

-- The live OTP per (phone, purpose), stored only as a keyed hash, with the
-- counters that enforce the resend cooldown, the send limit and the attempt
-- limit. `phone` is the phone the OTP is *for* (the driver's, for a driver
-- login whose SMS goes to the transporter).
CREATE TABLE otp_challenges (
    phone             TEXT        NOT NULL,
    purpose           TEXT        NOT NULL CHECK (purpose IN ('customer', 'transporter', 'driver_login', 'driver_onboard')),
    otp_hash          TEXT,
    attempts          INTEGER     NOT NULL DEFAULT 0,
    expires_at        TIMESTAMPTZ NOT NULL,
    last_sent_at      TIMESTAMPTZ NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    sends_in_window   INTEGER     NOT NULL DEFAULT 1,
    -- For driver onboarding: who onboards, and the details to create the driver with.
    requested_by      UUID REFERENCES users (id),
    pending_profile   JSONB,
    PRIMARY KEY (phone, purpose)
);

-- A login: the refresh token (hashed) and the revocation that logout sets,
-- which also kills every access token of the session.
CREATE TABLE sessions (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            UUID        NOT NULL REFERENCES users (id),
    refresh_token_hash TEXT        NOT NULL UNIQUE,
    device_id          TEXT,
    device_name        TEXT,
    expires_at         TIMESTAMPTZ NOT NULL,
    revoked_at         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Push tokens, for a sender behind a trait.
CREATE TABLE device_tokens (
    token       TEXT PRIMARY KEY,
    user_id     UUID        NOT NULL REFERENCES users (id),
    device_type TEXT,
    device_id   TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX device_tokens_user_idx ON device_tokens (user_id);

-- A transporter's trucks. The normalised number is unique among vehicles not
-- deleted; the key normalises type + subtype for matching.
CREATE TABLE vehicles (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    transporter_id     UUID        NOT NULL REFERENCES users (id),
    vehicle_number     TEXT        NOT NULL,
    vehicle_type       TEXT        NOT NULL,
    vehicle_subtype    TEXT        NOT NULL,
    vehicle_key        TEXT        NOT NULL,
    capacity           TEXT,
    model              TEXT,
    year               INTEGER,
    rc_number          TEXT,
    status             TEXT        NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'on_hold', 'in_transit', 'maintenance', 'inactive')),
    current_trip_id    UUID,
    assigned_driver_id UUID REFERENCES users (id),
    is_verified        BOOLEAN     NOT NULL DEFAULT false,
    deleted_at         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX vehicles_number_live_idx ON vehicles (vehicle_number) WHERE deleted_at IS NULL;
CREATE INDEX vehicles_transporter_idx ON vehicles (transporter_id) WHERE deleted_at IS NULL;
CREATE INDEX vehicles_key_idx ON vehicles (vehicle_key) WHERE deleted_at IS NULL;
