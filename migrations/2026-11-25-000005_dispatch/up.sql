-- Who was told about an order, at which radius step: the right to hold its
-- trucks, and the guard against telling anyone twice.
CREATE TABLE order_notifications (
    order_id       UUID        NOT NULL REFERENCES orders (id),
    transporter_id UUID        NOT NULL REFERENCES users (id),
    step           INTEGER     NOT NULL,
    distance_m     DOUBLE PRECISION NOT NULL,
    notified_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (order_id, transporter_id)
);
CREATE INDEX order_notifications_transporter_idx ON order_notifications (transporter_id, notified_at DESC);
