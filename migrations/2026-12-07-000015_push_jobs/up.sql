-- Push notifications (FCM). The use case names, per event, the rooms whose
-- user is also told by push when no socket of theirs is live (`push_to`,
-- a subset of `recipients`). A trigger turns each such room whose user has
-- a device token into a push job in the transaction that writes the event,
-- so a committed event's pushes are never lost; workers on any instance
-- claim due jobs (SKIP LOCKED, under a lease), send, and delete them.
ALTER TABLE outbox ADD COLUMN push_to TEXT[] NOT NULL DEFAULT '{}';

CREATE TABLE push_jobs (
    id         BIGSERIAL PRIMARY KEY,
    outbox_id  BIGINT      NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    -- `transporter:{id}`, `driver:{id}` or `customer:{id}`: the user and
    -- the role the message is written for.
    room       TEXT        NOT NULL,
    user_id    UUID        NOT NULL,
    -- The tokens still owed this message; NULL until the first attempt
    -- reads the user's tokens.
    tokens     TEXT[],
    attempts   INT         NOT NULL DEFAULT 0,
    -- When a worker may take it next (a claim moves it a lease ahead).
    due_at     TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (outbox_id, user_id)
);
CREATE INDEX push_jobs_due_idx ON push_jobs (due_at);

CREATE FUNCTION enqueue_pushes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO push_jobs (outbox_id, room, user_id, due_at, created_at)
    SELECT f.id, r.room, split_part(r.room, ':', 2)::uuid, f.created_at, f.created_at
    FROM fresh f CROSS JOIN LATERAL unnest(f.push_to) AS r(room)
    WHERE cardinality(f.push_to) > 0
      AND EXISTS (
          SELECT 1 FROM device_tokens t
          WHERE t.user_id = split_part(r.room, ':', 2)::uuid
      )
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_enqueue_pushes
    AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS fresh
    FOR EACH STATEMENT EXECUTE FUNCTION enqueue_pushes();

-- Broadcast acknowledgements: when the transporter's app said it got the
-- offer (socket or push), for the delivery-latency figures.
ALTER TABLE order_notifications ADD COLUMN acked_at TIMESTAMPTZ;
