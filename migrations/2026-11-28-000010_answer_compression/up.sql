-- The create answer and the events are JSON of a few KiB, written once per
-- order and compressed on the way in: lz4 compresses them several times
-- faster than the default pglz. Only new values are affected.
ALTER TABLE idempotency_keys ALTER COLUMN response_body SET COMPRESSION lz4;
ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
