-- Trips: the GPS history of each trip (batched inserts; a point per trip
-- and timestamp, so a resent point is a duplicate, not a second row), and
-- when a trip started moving and when its silence was reported.
CREATE TABLE trip_points (
    trip_id     UUID             NOT NULL REFERENCES assignments (trip_id),
    recorded_at TIMESTAMPTZ      NOT NULL,
    latitude    DOUBLE PRECISION NOT NULL,
    longitude   DOUBLE PRECISION NOT NULL,
    speed       DOUBLE PRECISION,
    bearing     DOUBLE PRECISION,
    accuracy    DOUBLE PRECISION,
    received_at TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (trip_id, recorded_at)
);

ALTER TABLE assignments
    ADD COLUMN trip_started_at     TIMESTAMPTZ,
    ADD COLUMN silence_reported_at TIMESTAMPTZ;
-- The silence watchdog's scan: trips on the road not yet reported silent.
CREATE INDEX assignments_moving_idx ON assignments (trip_started_at)
    WHERE status IN ('in_transit', 'arrived_at_drop') AND silence_reported_at IS NULL;
