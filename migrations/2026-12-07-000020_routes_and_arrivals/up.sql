-- The road distance the server measured over an order's points, beside the
-- client's distance_km: by its maps provider, or the embedded estimate
-- (`source` says which). Its own table: orders is at diesel's column limit.
CREATE TABLE order_routes (
    order_id    UUID PRIMARY KEY REFERENCES orders (id),
    distance_km INTEGER NOT NULL CHECK (distance_km >= 0),
    source      TEXT    NOT NULL
);
-- When `driver_approaching` went to the customer: once per trip, set by a
-- compare-and-set so no two instances send it.
ALTER TABLE assignments ADD COLUMN approaching_sent_at TIMESTAMPTZ;
