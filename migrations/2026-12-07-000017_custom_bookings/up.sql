-- Custom long-term bookings: a customer's request for trucks over days or
-- months (the Custom tab), reviewed by the operator outside the instant
-- flow. The customer may cancel while it is pending or under review.
CREATE TABLE custom_bookings (
    id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id          UUID        NOT NULL REFERENCES users (id),
    pickup_city          TEXT        NOT NULL,
    pickup_state         TEXT,
    drop_city            TEXT        NOT NULL,
    drop_state           TEXT,
    vehicle_requirements JSONB       NOT NULL,
    start_date           DATE        NOT NULL,
    end_date             DATE        NOT NULL CHECK (end_date >= start_date),
    is_flexible          BOOLEAN     NOT NULL,
    goods_type           TEXT,
    estimated_weight     TEXT,
    special_requests     TEXT,
    company_name         TEXT,
    customer_email       TEXT,
    status               TEXT        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'under_review', 'approved', 'rejected', 'completed', 'cancelled')),
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    cancelled_at         TIMESTAMPTZ
);
CREATE INDEX custom_bookings_customer_idx ON custom_bookings (customer_id, created_at DESC);
