-- What changed, for the consoles' live updates: one row per change of one object (an alert created or changed),
-- numbered so that a browser that reconnects (`Last-Event-ID`) is sent what it missed. Kept for an hour.
CREATE TABLE console_events (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    subject_id  uuid NOT NULL,
    kind        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_events_created_idx ON console_events (created_at);

-- Records changes of `subjects` and wakes the consoles' listeners (`NOTIFY owl_console`, the tenant's schema as payload)
-- when the transaction commits.
CREATE FUNCTION console_event(event_topic text, subjects uuid[], event_kind text) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF cardinality(subjects) > 0 THEN
        INSERT INTO console_events (topic, subject_id, kind) SELECT event_topic, s, event_kind FROM unnest(subjects) AS s;
        PERFORM pg_notify('owl_console', current_schema());
    END IF;
END
$$;
