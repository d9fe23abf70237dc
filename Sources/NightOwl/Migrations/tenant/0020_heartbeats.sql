-- Heartbeat monitors: a sender (Alertmanager's always-firing Watchdog alert, a cron job, a backup script) pings its
-- URL at least once per interval; when the pings stop, NightOwl raises an alert through the normal pipeline, so that a
-- dead monitoring stack or a job that silently stopped pages someone instead of going quiet. The next ping resolves it.
CREATE TABLE heartbeats (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    interval_seconds integer NOT NULL CHECK (interval_seconds BETWEEN 60 AND 604800),
    severity         text NOT NULL CHECK (severity IN ('critical', 'major', 'warning', 'info')),
    service          text,
    enabled          boolean NOT NULL DEFAULT true,
    last_ping_at     timestamptz,
    -- Set while the heartbeat's alert is open (between the missed ping and the next one).
    expired_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX heartbeats_name_idx ON heartbeats (lower(name));
