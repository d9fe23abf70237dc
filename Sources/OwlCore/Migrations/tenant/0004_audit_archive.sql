-- Audit entries past the tenant's retention move here: out of the working table, never destroyed.
CREATE TABLE audit_log_archive (LIKE audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE audit_log_archive ADD PRIMARY KEY (id), ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX audit_log_archive_created_idx ON audit_log_archive (created_at);
