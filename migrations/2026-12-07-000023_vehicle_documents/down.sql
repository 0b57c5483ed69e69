DROP INDEX documents_expiring_idx;
DROP INDEX documents_one_active;
DELETE FROM documents WHERE vehicle_id IS NOT NULL;
ALTER TABLE documents DROP COLUMN expiry_warned_at, DROP COLUMN expires_on, DROP COLUMN vehicle_id;
CREATE UNIQUE INDEX documents_one_active ON documents (owner_id, kind) WHERE status = 'active';
ALTER TABLE documents DROP CONSTRAINT documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check CHECK (kind IN ('driver_photo', 'license_front', 'license_back'));
