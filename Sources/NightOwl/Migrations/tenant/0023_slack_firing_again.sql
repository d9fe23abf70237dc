-- An acknowledgement taken back (the console's Undo) makes the alert fire again. Its Slack messages, edited to say
-- "Acknowledged", are edited back to the firing message with its buttons, and the channel's thread says who took it
-- back. The same state can now come back (acknowledged, undone, acknowledged again), so the keys of edits and thread
-- notes carry the moment of the change as well as the state: each change is told once, and every change is told.

CREATE OR REPLACE FUNCTION slack_follow_up(target uuid, messages uuid[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    a record;
    known boolean;
    edits integer;
    moment text;
BEGIN
    SELECT al.id, al.status, al.first_fired_at, al.occurrence_count, al.resolution_notes,
           slack_actor(al.acknowledged_by) AS acknowledged_by, al.acknowledged_at,
           slack_actor(CASE al.status WHEN 'resolved' THEN al.resolved_by ELSE al.acknowledged_by END) AS actor,
           CASE al.status WHEN 'resolved' THEN al.resolved_at ELSE al.acknowledged_at END AS acted_at,
           (SELECT i.title FROM incidents i
            WHERE (i.id = al.matched_incident_id OR i.fingerprints @> ARRAY[al.fingerprint])
              AND i.merged_into_id IS NULL AND i.archived_at IS NULL
            ORDER BY (i.id = al.matched_incident_id) IS TRUE DESC, i.updated_at DESC LIMIT 1) AS entry,
           al.matched_incident_id IS NOT NULL AS matched
    INTO a FROM alerts al WHERE al.id = target AND al.status <> 'firing';
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    known := a.matched OR a.entry IS NOT NULL;
    moment := floor(extract(epoch FROM a.acted_at) * 1000)::bigint::text;

    INSERT INTO notification_outbox (idempotency_key, alert_id, provider, method, mode, recipient, payload)
    SELECT 'slack-follow-up:' || o.id || ':' || a.status || CASE WHEN a.status = 'resolved' AND known THEN ':known' ELSE '' END || ':' || moment,
           a.id, 'slack', o.method, o.mode, COALESCE(o.provider_reference, o.recipient),
           jsonb_build_object('alert', o.payload -> 'alert', 'slack_update', jsonb_build_object(
               'channel', split_part(o.provider_reference, ':', 1), 'ts', split_part(o.provider_reference, ':', 2),
               'status', a.status, 'known', known, 'by', a.actor, 'at', floor(extract(epoch FROM a.acted_at))))
    FROM slack_alert_messages(target, messages) o
    ON CONFLICT (idempotency_key) DO NOTHING;
    GET DIAGNOSTICS edits = ROW_COUNT;

    RETURN edits + slack_thread_note(target, jsonb_strip_nulls(jsonb_build_object(
        'event', a.status, 'by', a.actor, 'at', floor(extract(epoch FROM a.acted_at)),
        'fired_at', floor(extract(epoch FROM a.first_fired_at)), 'count', a.occurrence_count,
        'acknowledged_by', CASE a.status WHEN 'resolved' THEN a.acknowledged_by END,
        'acknowledged_at', CASE a.status WHEN 'resolved' THEN floor(extract(epoch FROM a.acknowledged_at)) END,
        'notes', CASE a.status WHEN 'resolved' THEN NULLIF(btrim(a.resolution_notes), '') END,
        'known', CASE a.status WHEN 'resolved' THEN known END,
        'entry', CASE a.status WHEN 'resolved' THEN a.entry END)), a.status || ':' || moment, messages);
END
$$;

-- The messages that an earlier edit changed go back to firing; the thread is told by whom (the transaction's actor).
CREATE FUNCTION slack_firing_again(target uuid) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    actor text := slack_actor(NULLIF(current_setting('owl.actor', true), ''));
    moment text := floor(extract(epoch FROM now()) * 1000)::bigint::text;
    edits integer;
    edited uuid[];
BEGIN
    SELECT array_agg(o.id) INTO edited FROM slack_alert_messages(target) o
    WHERE EXISTS (SELECT 1 FROM notification_outbox e
                  WHERE e.alert_id = target AND e.idempotency_key LIKE 'slack-follow-up:' || o.id || ':%');
    IF edited IS NULL THEN
        RETURN 0;
    END IF;

    INSERT INTO notification_outbox (idempotency_key, alert_id, provider, method, mode, recipient, payload)
    SELECT 'slack-follow-up:' || o.id || ':firing:' || moment, target, 'slack', o.method, o.mode, COALESCE(o.provider_reference, o.recipient),
           jsonb_build_object('alert', o.payload -> 'alert', 'slack_update', jsonb_build_object(
               'channel', split_part(o.provider_reference, ':', 1), 'ts', split_part(o.provider_reference, ':', 2),
               'status', 'firing', 'by', actor, 'at', floor(extract(epoch FROM now()))))
    FROM slack_alert_messages(target, edited) o
    ON CONFLICT (idempotency_key) DO NOTHING;
    GET DIAGNOSTICS edits = ROW_COUNT;

    RETURN edits + slack_thread_note(target, jsonb_strip_nulls(jsonb_build_object(
        'event', 'firing', 'by', actor, 'at', floor(extract(epoch FROM now())))), 'firing:' || moment, edited);
END
$$;

CREATE FUNCTION alerts_slack_firing_again() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM slack_firing_again(NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER alerts_slack_firing_again AFTER UPDATE OF status ON alerts FOR EACH ROW
    WHEN (OLD.status = 'acknowledged' AND NEW.status = 'firing')
    EXECUTE FUNCTION alerts_slack_firing_again();
