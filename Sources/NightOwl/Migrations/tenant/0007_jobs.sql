-- Scheduled work of the worker: how far handoffs have been announced per roster, and when daily jobs last ran.
CREATE TABLE roster_handoff_cursor (
    roster_id      uuid PRIMARY KEY REFERENCES rosters (id) ON DELETE CASCADE,
    checked_until  timestamptz NOT NULL
);
CREATE TABLE maintenance_runs (
    job          text PRIMARY KEY,
    last_run_at  timestamptz NOT NULL,
    summary      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX alerts_resolved_at_idx ON alerts (resolved_at) WHERE status = 'resolved';
