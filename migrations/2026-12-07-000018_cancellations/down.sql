DROP TABLE disputes;
DROP TABLE cancellations;
