-- The cancellation ledger: one row per customer cancel, written in the
-- cancel's transaction, with what the stage cost (no payment gateway: the
-- amounts are recorded, and a penalty due stays `pending` until settled).
CREATE TABLE cancellations (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id            UUID        NOT NULL UNIQUE REFERENCES orders (id),
    customer_id         UUID        NOT NULL REFERENCES users (id),
    stage               TEXT        NOT NULL,
    decision            TEXT        NOT NULL,
    reason              TEXT,
    penalty_amount      BIGINT      NOT NULL CHECK (penalty_amount >= 0),
    penalty_breakdown   JSONB       NOT NULL,
    driver_compensation JSONB       NOT NULL,
    settlement_state    TEXT        NOT NULL CHECK (settlement_state IN ('none', 'pending', 'settled', 'waived')),
    created_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX cancellations_pending_idx ON cancellations (customer_id) WHERE settlement_state = 'pending';

-- Disputes a customer opens when a cancel is blocked (a truck on the road).
CREATE TABLE disputes (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id    UUID        NOT NULL REFERENCES orders (id),
    customer_id UUID        NOT NULL REFERENCES users (id),
    stage       TEXT        NOT NULL,
    reason_code TEXT,
    notes       TEXT,
    status      TEXT        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'rejected')),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX disputes_order_idx ON disputes (order_id);
