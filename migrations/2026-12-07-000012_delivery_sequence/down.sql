DROP INDEX outbox_unpublished_idx;
DROP INDEX outbox_unnumbered_idx;
DROP INDEX outbox_seq_idx;
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
DROP SEQUENCE outbox_delivery_seq;
ALTER TABLE outbox DROP COLUMN seq;
