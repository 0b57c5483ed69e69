-- Ratings: the customer rates each completed trip once (the unique index
-- decides between two taps); the driver's sum and count are kept in step in
-- the same transaction, so an average is one row away.
CREATE TABLE ratings (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    assignment_id  UUID        NOT NULL UNIQUE REFERENCES assignments (id),
    order_id       UUID        NOT NULL REFERENCES orders (id),
    customer_id    UUID        NOT NULL REFERENCES users (id),
    driver_id      UUID        NOT NULL REFERENCES users (id),
    transporter_id UUID        NOT NULL REFERENCES users (id),
    stars          SMALLINT    NOT NULL CHECK (stars BETWEEN 1 AND 5),
    tags           TEXT[]      NOT NULL DEFAULT '{}',
    comment        TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX ratings_order_idx ON ratings (order_id);

CREATE TABLE driver_ratings (
    driver_id    UUID PRIMARY KEY REFERENCES users (id),
    stars_sum    BIGINT      NOT NULL,
    rating_count BIGINT      NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
