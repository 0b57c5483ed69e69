DROP TABLE rate_counters;
DROP TABLE otp_lockouts;
