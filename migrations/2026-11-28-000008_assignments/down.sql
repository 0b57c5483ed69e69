DROP TABLE dispatch_schedule;
DROP TABLE assignments;
