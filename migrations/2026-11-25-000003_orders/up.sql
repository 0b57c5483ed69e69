-- Orders: the customer's order and one truck request per truck.

CREATE TABLE orders (
    id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id           UUID             NOT NULL REFERENCES users (id),
    pickup_latitude       DOUBLE PRECISION NOT NULL,
    pickup_longitude      DOUBLE PRECISION NOT NULL,
    pickup_address        TEXT             NOT NULL,
    pickup_city           TEXT,
    pickup_state          TEXT,
    drop_latitude         DOUBLE PRECISION NOT NULL,
    drop_longitude        DOUBLE PRECISION NOT NULL,
    drop_address          TEXT             NOT NULL,
    drop_city             TEXT,
    drop_state            TEXT,
    -- Up to two intermediate stops: [{latitude, longitude, address, city?, state?}].
    stops                 JSONB            NOT NULL DEFAULT '[]',
    distance_km           INTEGER          NOT NULL CHECK (distance_km >= 0),
    goods_type            TEXT,
    total_trucks          INTEGER          NOT NULL CHECK (total_trucks BETWEEN 1 AND 50),
    trucks_filled         INTEGER          NOT NULL DEFAULT 0,
    total_amount          BIGINT           NOT NULL CHECK (total_amount >= 0),
    status                TEXT             NOT NULL CHECK (status IN ('created', 'broadcasting', 'active',
                              'partially_filled', 'fully_filled', 'in_progress', 'completed', 'cancelled', 'expired')),
    dispatch_state        TEXT             NOT NULL DEFAULT 'queued',
    dispatch_attempts     INTEGER          NOT NULL DEFAULT 0,
    online_candidates     INTEGER          NOT NULL DEFAULT 0,
    notified_transporters INTEGER          NOT NULL DEFAULT 0,
    reason_code           TEXT,
    cancel_reason         TEXT,
    expires_at            TIMESTAMPTZ      NOT NULL,
    version               INTEGER          NOT NULL DEFAULT 1,
    created_at            TIMESTAMPTZ      NOT NULL,
    updated_at            TIMESTAMPTZ      NOT NULL,
    cancelled_at          TIMESTAMPTZ,
    expired_at            TIMESTAMPTZ,
    completed_at          TIMESTAMPTZ,
    CHECK (trucks_filled BETWEEN 0 AND total_trucks)
);
-- The rule "one searching order per customer", enforced where races cannot
-- get past it.
CREATE UNIQUE INDEX orders_one_searching_per_customer ON orders (customer_id)
    WHERE status IN ('created', 'broadcasting', 'active', 'partially_filled');
-- The sweeper's and cleanup job's scan: searching orders by deadline.
CREATE INDEX orders_searching_due_idx ON orders (expires_at)
    WHERE status IN ('created', 'broadcasting', 'active', 'partially_filled');
CREATE INDEX orders_customer_history_idx ON orders (customer_id, created_at DESC);

CREATE TABLE truck_requests (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id        UUID        NOT NULL REFERENCES orders (id),
    request_number  INTEGER     NOT NULL,
    vehicle_type    TEXT        NOT NULL,
    vehicle_subtype TEXT        NOT NULL,
    vehicle_key     TEXT        NOT NULL,
    price_per_truck INTEGER     NOT NULL CHECK (price_per_truck >= 0),
    status          TEXT        NOT NULL DEFAULT 'searching' CHECK (status IN ('searching', 'held', 'assigned',
                        'in_progress', 'completed', 'cancelled', 'expired')),
    hold_id         UUID,
    transporter_id  UUID REFERENCES users (id),
    vehicle_id      UUID REFERENCES vehicles (id),
    driver_id       UUID REFERENCES users (id),
    assigned_at     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (order_id, request_number)
);
CREATE INDEX truck_requests_searching_idx ON truck_requests (order_id, vehicle_key) WHERE status = 'searching';

-- Events of an order, for its snapshot and history.
ALTER TABLE outbox ADD COLUMN order_id UUID;
CREATE INDEX outbox_order_idx ON outbox (order_id) WHERE order_id IS NOT NULL;
