-- The delivery sequence: the number a client replays from (`_seq`,
-- `auth.lastSeq`, `transporter/dispatch/replay`). The outbox id is taken at
-- insert, so a transaction that commits late can hold a lower id than an
-- event already delivered; the relay numbers committed events instead, one
-- relay at a time (under an advisory lock), so the numbers follow commit
-- order and a replay never skips a late commit. They
-- come from a sequence, so a number is never given twice, even when the
-- numbering transaction fails after the relay handed the events out.
ALTER TABLE outbox ADD COLUMN seq BIGINT;

-- Events already published keep their id as their number, so the sequences
-- apps hold today stay meaningful; what comes next is numbered after them.
UPDATE outbox SET seq = id WHERE published_at IS NOT NULL;
CREATE SEQUENCE outbox_delivery_seq;
SELECT setval('outbox_delivery_seq', COALESCE(max(id), 0) + 1, false) FROM outbox;

CREATE UNIQUE INDEX outbox_seq_idx ON outbox (seq) WHERE seq IS NOT NULL;
-- Events not yet numbered, and numbered ones not yet through pub/sub.
DROP INDEX outbox_unpublished_idx;
CREATE INDEX outbox_unnumbered_idx ON outbox (id) WHERE seq IS NULL;
CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE seq IS NOT NULL AND published_at IS NULL;
