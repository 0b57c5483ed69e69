-- The last availability toggle of transporters and drivers: presence itself
-- lives in Redis and memory; this is what a restart recovers from, and what
-- the 2 s toggle cooldown is checked against.
ALTER TABLE users
    ADD COLUMN is_available BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN availability_changed_at TIMESTAMPTZ;
CREATE INDEX users_available_idx ON users (role) WHERE is_available;
