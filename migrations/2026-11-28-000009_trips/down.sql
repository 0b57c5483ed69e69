DROP INDEX assignments_moving_idx;
ALTER TABLE assignments DROP COLUMN silence_reported_at, DROP COLUMN trip_started_at;
DROP TABLE trip_points;
