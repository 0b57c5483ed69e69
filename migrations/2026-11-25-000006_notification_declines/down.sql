ALTER TABLE order_notifications DROP COLUMN declined_at;
