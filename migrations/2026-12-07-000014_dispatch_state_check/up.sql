-- An order's dispatch state is read into weelo_orders::DispatchState; like
-- every other status column it accepts only the names that type knows.
ALTER TABLE orders
    ADD CONSTRAINT orders_dispatch_state_check
    CHECK (dispatch_state IN ('queued', 'broadcasting', 'finished'));
