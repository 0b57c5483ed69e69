-- Assignments: the vehicle and driver a transporter names for one truck of
-- an order, the driver's answer and, once accepted, the trip. A driver, a
-- vehicle and a truck each have at most one live assignment: the partial
-- unique indexes settle two confirms racing for the same one.
CREATE TABLE assignments (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    trip_id            UUID        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    order_id           UUID        NOT NULL REFERENCES orders (id),
    truck_request_id   UUID        NOT NULL REFERENCES truck_requests (id),
    hold_id            UUID REFERENCES holds (id),
    transporter_id     UUID        NOT NULL REFERENCES users (id),
    vehicle_id         UUID        NOT NULL REFERENCES vehicles (id),
    driver_id          UUID        NOT NULL REFERENCES users (id),
    vehicle_number     TEXT        NOT NULL,
    status             TEXT        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'driver_accepted', 'en_route_pickup', 'at_pickup', 'loading_complete',
                          'in_transit', 'arrived_at_drop', 'completed', 'driver_declined', 'timed_out', 'cancelled')),
    driver_deadline    TIMESTAMPTZ NOT NULL,
    decline_reason     TEXT,
    assigned_at        TIMESTAMPTZ NOT NULL,
    driver_accepted_at TIMESTAMPTZ,
    declined_at        TIMESTAMPTZ,
    ended_at           TIMESTAMPTZ,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX assignments_one_live_per_driver ON assignments (driver_id)
    WHERE status IN ('pending', 'driver_accepted', 'en_route_pickup', 'at_pickup', 'loading_complete', 'in_transit', 'arrived_at_drop');
CREATE UNIQUE INDEX assignments_one_live_per_vehicle ON assignments (vehicle_id)
    WHERE status IN ('pending', 'driver_accepted', 'en_route_pickup', 'at_pickup', 'loading_complete', 'in_transit', 'arrived_at_drop');
CREATE UNIQUE INDEX assignments_one_live_per_truck ON assignments (truck_request_id)
    WHERE status IN ('pending', 'driver_accepted', 'en_route_pickup', 'at_pickup', 'loading_complete', 'in_transit', 'arrived_at_drop');
-- The sweeper's scan: unanswered assignments by deadline.
CREATE INDEX assignments_pending_due_idx ON assignments (driver_deadline) WHERE status = 'pending';
CREATE INDEX assignments_order_idx ON assignments (order_id);
CREATE INDEX assignments_driver_idx ON assignments (driver_id, assigned_at DESC);
CREATE INDEX assignments_transporter_idx ON assignments (transporter_id, assigned_at DESC);

-- When an order's next radius step (or the re-dispatch of a reopened
-- truck) is due: a row per order while it has one, taken by the sweeper
-- of any instance.
CREATE TABLE dispatch_schedule (
    order_id UUID PRIMARY KEY REFERENCES orders (id),
    due_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX dispatch_schedule_due_idx ON dispatch_schedule (due_at);
