ALTER TABLE users DROP COLUMN verification;
DROP TABLE documents;
