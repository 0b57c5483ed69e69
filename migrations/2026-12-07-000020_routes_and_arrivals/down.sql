ALTER TABLE assignments DROP COLUMN approaching_sent_at;
DROP TABLE order_routes;
