DROP TABLE custom_bookings;
