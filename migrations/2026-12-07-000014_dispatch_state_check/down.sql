ALTER TABLE orders DROP CONSTRAINT orders_dispatch_state_check;
