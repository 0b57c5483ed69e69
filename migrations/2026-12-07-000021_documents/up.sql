-- Documents: each uploaded file kept in object storage under a random key,
-- recorded here (owner, kind, status, type, size, sha256). One active
-- document per owner and kind; an upload of the same kind replaces it.
CREATE TABLE documents (
    id            UUID PRIMARY KEY,
    owner_id      UUID        NOT NULL REFERENCES users (id),
    kind          TEXT        NOT NULL CHECK (kind IN ('driver_photo', 'license_front', 'license_back')),
    status        TEXT        NOT NULL CHECK (status IN ('active', 'replaced', 'rejected')),
    object_key    TEXT        NOT NULL UNIQUE,
    thumbnail_key TEXT UNIQUE,
    content_type  TEXT        NOT NULL,
    size_bytes    BIGINT      NOT NULL CHECK (size_bytes > 0),
    sha256        TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    replaced_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX documents_one_active ON documents (owner_id, kind) WHERE status = 'active';
CREATE INDEX documents_ended_idx ON documents (replaced_at) WHERE status <> 'active';

-- A driver's KYC: `unverified` until the profile is completed, then
-- `pending` until an operator approves or rejects it.
ALTER TABLE users ADD COLUMN verification TEXT NOT NULL DEFAULT 'unverified'
    CHECK (verification IN ('unverified', 'pending', 'approved', 'rejected'));
