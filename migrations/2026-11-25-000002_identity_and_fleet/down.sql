DROP TABLE vehicles;
DROP TABLE device_tokens;
DROP TABLE sessions;
DROP TABLE otp_challenges;
DROP TABLE users;
