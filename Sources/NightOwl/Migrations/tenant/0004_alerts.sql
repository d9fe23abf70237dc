-- Alerts as received, normalised from every source. One open alert per fingerprint (see the partial unique index).
CREATE TABLE alerts (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fingerprint          text NOT NULL CHECK (length(fingerprint) BETWEEN 1 AND 512),
    status               text NOT NULL CHECK (status IN ('firing', 'acknowledged', 'resolved')),
    severity             text NOT NULL CHECK (severity IN ('critical', 'major', 'warning', 'info')),
    source               text NOT NULL,
    title                text NOT NULL,
    description          text NOT NULL DEFAULT '',
    labels               jsonb NOT NULL DEFAULT '{}'::jsonb,
    annotations          jsonb NOT NULL DEFAULT '{}'::jsonb,
    service              text,
    cluster              text,
    namespace            text,
    runbook_url          text,
    generator_url        text,
    occurrence_count     integer NOT NULL DEFAULT 1,
    first_fired_at       timestamptz NOT NULL,
    last_fired_at        timestamptz NOT NULL,
    acknowledged_by      text,
    acknowledged_at      timestamptz,
    resolved_by          text,
    resolved_at          timestamptz,
    resolution_notes     text,
    matched_incident_id  uuid REFERENCES incidents(id) ON DELETE SET NULL,
    suggested_solution   text,
    enrichment_source    text,
    agent_metadata       jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alerts_open_fingerprint_idx ON alerts (fingerprint) WHERE status <> 'resolved';
CREATE INDEX alerts_recent_idx ON alerts (first_fired_at DESC, id DESC);
CREATE INDEX alerts_status_idx ON alerts (status, first_fired_at DESC);
CREATE INDEX alerts_incident_idx ON alerts (matched_incident_id) WHERE matched_incident_id IS NOT NULL;
