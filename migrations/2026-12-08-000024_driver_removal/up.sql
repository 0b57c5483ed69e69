-- A transporter removes a driver (DELETE profile/drivers/{id}): the account
-- is switched off and its phone erased, so the number is free for a new
-- onboarding and no personal detail outlives the removal. The row itself
-- stays because past trips name it. An erased phone is `removed:` and the
-- account's own id, which only an inactive account may carry.
ALTER TABLE users DROP CONSTRAINT users_phone_check;
ALTER TABLE users ADD CONSTRAINT users_phone_check CHECK (
    phone ~ '^[6-9][0-9]{9}$'
    OR (NOT is_active AND phone = 'removed:' || id::text)
);
