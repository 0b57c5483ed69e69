DROP INDEX users_available_idx;
ALTER TABLE users DROP COLUMN availability_changed_at, DROP COLUMN is_available;
