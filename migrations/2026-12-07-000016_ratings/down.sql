DROP TABLE driver_ratings;
DROP TABLE ratings;
