-- A transporter may dismiss a broadcast; it then leaves their feed.
ALTER TABLE order_notifications ADD COLUMN declined_at TIMESTAMPTZ;
