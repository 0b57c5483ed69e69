ALTER TABLE order_notifications DROP COLUMN acked_at;
DROP TRIGGER outbox_enqueue_pushes ON outbox;
DROP FUNCTION enqueue_pushes();
DROP TABLE push_jobs;
ALTER TABLE outbox DROP COLUMN push_to;
