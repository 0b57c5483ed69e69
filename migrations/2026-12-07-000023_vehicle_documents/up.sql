-- Vehicles' registration certificates and insurance: documents of the
-- transporter that owns the vehicle, with the date they expire and when the
-- transporter was warned (once, 15 days before).
ALTER TABLE documents DROP CONSTRAINT documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check CHECK (kind IN (
    'driver_photo', 'license_front', 'license_back', 'vehicle_rc', 'vehicle_insurance'));
ALTER TABLE documents
    ADD COLUMN vehicle_id UUID REFERENCES vehicles (id),
    ADD COLUMN expires_on DATE,
    ADD COLUMN expiry_warned_at TIMESTAMPTZ;
DROP INDEX documents_one_active;
CREATE UNIQUE INDEX documents_one_active ON documents (owner_id, kind, vehicle_id)
    NULLS NOT DISTINCT WHERE status = 'active';
CREATE INDEX documents_expiring_idx ON documents (expires_on)
    WHERE status = 'active' AND expires_on IS NOT NULL AND expiry_warned_at IS NULL;
