CREATE TABLE audit_log (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    actor        text NOT NULL,
    actor_type   text NOT NULL,
    action       text NOT NULL,
    resource     text NOT NULL,
    resource_id  text,
    diff         jsonb,
    request_id   text,
    ip_address   text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, created_at DESC);
CREATE INDEX audit_log_resource_idx ON audit_log (resource, created_at DESC);
