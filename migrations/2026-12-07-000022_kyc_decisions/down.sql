DROP INDEX users_kyc_pending_idx;
DROP TABLE kyc_decisions;
