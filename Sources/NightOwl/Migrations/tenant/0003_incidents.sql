-- The knowledge base: one row per known incident, with what it looks like and how it was solved.
CREATE TABLE incidents (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    fingerprints      text[] NOT NULL DEFAULT '{}',
    severity          text NOT NULL CHECK (severity IN ('critical', 'major', 'warning', 'info')),
    category          text NOT NULL DEFAULT '',
    services          text[] NOT NULL DEFAULT '{}',
    clusters          text[] NOT NULL DEFAULT '{}',
    namespaces        text[] NOT NULL DEFAULT '{}',
    tags              text[] NOT NULL DEFAULT '{}',
    symptoms          text NOT NULL DEFAULT '',
    error_patterns    text[] NOT NULL DEFAULT '{}',
    root_cause        text NOT NULL DEFAULT '',
    solution          text NOT NULL DEFAULT '',
    runbook_id        uuid REFERENCES runbooks(id) ON DELETE SET NULL,
    created_by        text NOT NULL DEFAULT '',
    resolution_count  integer NOT NULL DEFAULT 0 CHECK (resolution_count >= 0),
    last_seen_at      timestamptz,
    merged_into_id    uuid REFERENCES incidents(id),
    merged_from_ids   uuid[] NOT NULL DEFAULT '{}',
    archived_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    search_vector     tsvector NOT NULL DEFAULT ''::tsvector,
    CHECK (merged_into_id IS NULL OR merged_into_id <> id)
);

-- Weights: A title and error patterns, B symptoms and root cause, C solution.
CREATE FUNCTION incidents_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english', array_to_string(NEW.error_patterns, ' ')), 'A') ||
        setweight(to_tsvector('english', coalesce(NEW.symptoms, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.root_cause, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.solution, '')), 'C');
    RETURN NEW;
END
$$;
CREATE TRIGGER incidents_search_vector BEFORE INSERT OR UPDATE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_search_vector();

CREATE INDEX incidents_search_idx ON incidents USING gin (search_vector);
CREATE INDEX incidents_title_trgm_idx ON incidents USING gin (title public.gin_trgm_ops);
CREATE INDEX incidents_fingerprints_idx ON incidents USING gin (fingerprints);
CREATE INDEX incidents_services_idx ON incidents USING gin (services);
CREATE INDEX incidents_tags_idx ON incidents USING gin (tags);
CREATE INDEX incidents_live_idx ON incidents (updated_at DESC, id DESC) WHERE merged_into_id IS NULL AND archived_at IS NULL;

-- History is written by the database, so that no code path can change an incident without a trace.
-- The actor and the kind of change come from transaction-local settings (owl.actor, owl.change_type).
CREATE TABLE incident_history (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    incident_id  uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    change_type  text NOT NULL,
    changed_by   text NOT NULL DEFAULT '',
    diff         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX incident_history_incident_idx ON incident_history (incident_id, created_at, id);

CREATE FUNCTION incidents_capture_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    changes jsonb;
    kind text := coalesce(nullif(current_setting('owl.change_type', true), ''), lower(TG_OP) || 'd');
    actor text := coalesce(current_setting('owl.actor', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO %I.incident_history (incident_id, change_type, changed_by, diff) VALUES ($1, $2, $3, $4)', TG_TABLE_SCHEMA)
            USING NEW.id, 'created', actor, '{}'::jsonb;
        RETURN NEW;
    END IF;
    old_row := to_jsonb(OLD) - 'updated_at' - 'search_vector';
    new_row := to_jsonb(NEW) - 'updated_at' - 'search_vector';
    SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', old_row -> n.key, 'new', n.value)), '{}'::jsonb)
      INTO changes
      FROM jsonb_each(new_row) AS n
     WHERE n.value IS DISTINCT FROM old_row -> n.key;
    IF changes <> '{}'::jsonb THEN
        EXECUTE format('INSERT INTO %I.incident_history (incident_id, change_type, changed_by, diff) VALUES ($1, $2, $3, $4)', TG_TABLE_SCHEMA)
            USING NEW.id, kind, actor, changes;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER incidents_history AFTER INSERT OR UPDATE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_capture_history();
