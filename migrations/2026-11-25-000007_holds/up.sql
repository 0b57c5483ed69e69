-- A transporter's claim on some searching trucks of one (type, subtype) of an
-- order while it picks vehicles and drivers. One active hold per transporter
-- and order line.
CREATE TABLE holds (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    transporter_id  UUID        NOT NULL REFERENCES users (id),
    order_id        UUID        NOT NULL REFERENCES orders (id),
    vehicle_type    TEXT        NOT NULL,
    vehicle_subtype TEXT        NOT NULL,
    vehicle_key     TEXT        NOT NULL,
    quantity        INTEGER     NOT NULL CHECK (quantity >= 1),
    status          TEXT        NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'confirmed', 'released', 'expired', 'cancelled')),
    expires_at      TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX holds_one_active_per_line ON holds (transporter_id, order_id, vehicle_key) WHERE status = 'active';
CREATE INDEX holds_active_due_idx ON holds (expires_at) WHERE status = 'active';
