-- The audit of KYC decisions: who approved or rejected which driver, why,
-- when. Written in the decision's transaction.
CREATE TABLE kyc_decisions (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    driver_id  UUID        NOT NULL REFERENCES users (id),
    decision   TEXT        NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reason     TEXT,
    actor      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX kyc_decisions_driver_idx ON kyc_decisions (driver_id, created_at);
CREATE INDEX users_kyc_pending_idx ON users (created_at) WHERE verification = 'pending';
