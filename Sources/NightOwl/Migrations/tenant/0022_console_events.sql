-- The console shows alerts live: every new alert, and every change a person sees in a list (status, occurrences,
-- severity, title, the knowledge-base match), is recorded for the consoles' event streams (core 0008). Triggers per
-- statement, so a webhook batch of a hundred alerts writes one INSERT and one NOTIFY.
CREATE FUNCTION alerts_console_created() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM console_event('alert', ARRAY(SELECT id FROM created), 'created');
    RETURN NULL;
END
$$;

CREATE TRIGGER alerts_console_created AFTER INSERT ON alerts REFERENCING NEW TABLE AS created
    FOR EACH STATEMENT EXECUTE FUNCTION alerts_console_created();

CREATE FUNCTION alerts_console_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM console_event('alert', ARRAY(
        SELECT n.id FROM changed_new n JOIN changed_old o ON o.id = n.id
        WHERE n.status IS DISTINCT FROM o.status OR n.occurrence_count IS DISTINCT FROM o.occurrence_count
           OR n.severity IS DISTINCT FROM o.severity OR n.title IS DISTINCT FROM o.title
           OR n.matched_incident_id IS DISTINCT FROM o.matched_incident_id), 'changed');
    RETURN NULL;
END
$$;

CREATE TRIGGER alerts_console_changed AFTER UPDATE ON alerts REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION alerts_console_changed();
