-- A resolved alert that the knowledge base does not know yet is a chance to record what fixed it: its Slack messages
-- then offer "Add to Knowledge Base" (a modal, `SlackRoutes+Knowledge.swift`). So each follow-up also says whether
-- the knowledge base knows the alert (matched, or an entry lists its fingerprint) when it is queued. Once an entry is
-- added from Slack, the messages are followed up again (the idempotency key then ends in `:known`) without the button.
CREATE OR REPLACE FUNCTION slack_follow_up(target uuid, messages uuid[] DEFAULT NULL) RETURNS integer
LANGUAGE sql SET search_path FROM CURRENT AS $$
    WITH alert AS (
        SELECT a.*, (a.matched_incident_id IS NOT NULL OR EXISTS (
                        SELECT 1 FROM incidents i
                        WHERE i.fingerprints @> ARRAY[a.fingerprint] AND i.merged_into_id IS NULL AND i.archived_at IS NULL)) AS known
        FROM alerts a WHERE a.id = target AND a.status <> 'firing'
    ), queued AS (
        INSERT INTO notification_outbox (idempotency_key, alert_id, provider, method, mode, recipient, payload)
        SELECT 'slack-follow-up:' || o.id || ':' || a.status || CASE WHEN a.status = 'resolved' AND a.known THEN ':known' ELSE '' END,
               a.id, 'slack', o.method, o.mode,
               COALESCE(o.provider_reference, o.recipient),
               jsonb_build_object('alert', o.payload -> 'alert', 'slack_update', jsonb_build_object(
                   'channel', split_part(o.provider_reference, ':', 1), 'ts', split_part(o.provider_reference, ':', 2),
                   'status', a.status, 'known', a.known,
                   'by', COALESCE('slack:' || u.slack_user_id, CASE a.status WHEN 'resolved' THEN a.resolved_by ELSE a.acknowledged_by END),
                   'at', floor(extract(epoch FROM CASE a.status WHEN 'resolved' THEN a.resolved_at ELSE a.acknowledged_at END))))
        FROM alert a JOIN notification_outbox o ON o.alert_id = a.id
        -- People who did it in NightOwl are named by their email there; in Slack, a mention reads better.
        LEFT JOIN users u ON lower(u.email) = lower(CASE a.status WHEN 'resolved' THEN a.resolved_by ELSE a.acknowledged_by END)
        WHERE (messages IS NULL OR o.id = ANY(messages))
          AND o.provider = 'slack' AND o.status IN ('sent', 'sandboxed') AND o.payload ? 'slack'
          AND (o.provider_reference IS NULL OR (o.provider_reference LIKE '%:%' AND o.provider_reference NOT LIKE '%,%'))
          AND NOT EXISTS (SELECT 1 FROM notification_outbox s
                          WHERE s.method = o.method AND s.recipient = o.recipient AND s.sent_at = o.sent_at AND s.id <> o.id
                            AND NOT s.payload ? 'slack_update')
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer FROM queued
$$;
