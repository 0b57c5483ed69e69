DROP INDEX outbox_order_idx;
ALTER TABLE outbox DROP COLUMN order_id;
DROP TABLE truck_requests;
DROP TABLE orders;
