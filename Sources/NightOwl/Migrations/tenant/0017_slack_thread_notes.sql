-- A channel message about an alert is edited when the alert changes (0015), which shows its state but not its story.
-- So what happens to the alert is also told in the message's thread, where the team reads the timeline:
-- acknowledged, resolved (with the time it took, the notes, and whether the knowledge base knows it), escalated to a
-- further tier, every tier paged without an answer, recorded in the knowledge base. Direct messages are only edited:
-- they went to one person, who needs no thread.
--
-- Each note is an outbox row (`slack_thread` in its payload) written in the transaction of the change, keyed per
-- message and event so that a note is queued once, and sent by the worker like every other message.

-- The alert's Slack messages that were about it alone and went out (sent, or recorded in sandbox mode): the ones a
-- follow-up or a thread note can refer to. A bundle's summary (a message about several alerts, which shares its
-- recipient and send time with other rows, or whose reference names several messages) is left alone.
CREATE FUNCTION slack_alert_messages(target uuid, messages uuid[] DEFAULT NULL) RETURNS SETOF notification_outbox
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT o.* FROM notification_outbox o
    WHERE o.alert_id = target AND (messages IS NULL OR o.id = ANY(messages))
      AND o.provider = 'slack' AND o.status IN ('sent', 'sandboxed') AND o.payload ? 'slack'
      AND (o.provider_reference IS NULL OR (o.provider_reference LIKE '%:%' AND o.provider_reference NOT LIKE '%,%'))
      AND NOT EXISTS (SELECT 1 FROM notification_outbox s
                      WHERE s.method = o.method AND s.recipient = o.recipient AND s.sent_at = o.sent_at AND s.id <> o.id
                        AND NOT (s.payload ? 'slack_update' OR s.payload ? 'slack_thread'))
$$;

-- How Slack should name whoever acted: a mention (`slack:<member id>`) for a user with a Slack id, else as recorded.
CREATE FUNCTION slack_actor(actor text) RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT COALESCE((SELECT 'slack:' || u.slack_user_id FROM users u
                     WHERE lower(u.email) = lower(actor) AND u.slack_user_id IS NOT NULL LIMIT 1), actor)
$$;

-- Queues `note` (the event and its facts) in the thread of each of the alert's channel messages, once per message
-- and `event_key`. Returns how many notes were queued.
CREATE FUNCTION slack_thread_note(target uuid, note jsonb, event_key text, messages uuid[] DEFAULT NULL) RETURNS integer
LANGUAGE sql SET search_path FROM CURRENT AS $$
    WITH queued AS (
        INSERT INTO notification_outbox (idempotency_key, alert_id, provider, method, mode, recipient, payload)
        SELECT 'slack-thread:' || m.id || ':' || event_key, m.alert_id, 'slack', m.method, m.mode,
               COALESCE(m.provider_reference, m.recipient),
               jsonb_build_object('alert', m.payload -> 'alert', 'slack_thread', note || jsonb_build_object(
                   'channel', split_part(m.provider_reference, ':', 1), 'thread_ts', split_part(m.provider_reference, ':', 2)))
        FROM slack_alert_messages(target, messages) m
        WHERE m.method = 'slack_channel'
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer FROM queued
$$;

-- As in 0016 (the edits), and now also the thread note of the change.
CREATE OR REPLACE FUNCTION slack_follow_up(target uuid, messages uuid[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    a record;
    known boolean;
    edits integer;
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
    -- Known: matched, or an entry lists its fingerprint (a matched entry since merged or archived still counts).
    known := a.matched OR a.entry IS NOT NULL;

    INSERT INTO notification_outbox (idempotency_key, alert_id, provider, method, mode, recipient, payload)
    SELECT 'slack-follow-up:' || o.id || ':' || a.status || CASE WHEN a.status = 'resolved' AND known THEN ':known' ELSE '' END,
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
        'entry', CASE a.status WHEN 'resolved' THEN a.entry END)), a.status, messages);
END
$$;
