ALTER TABLE users DROP CONSTRAINT users_phone_check;
ALTER TABLE users ADD CONSTRAINT users_phone_check CHECK (phone ~ '^[6-9][0-9]{9}$') NOT VALID;
