-- When an alert is acknowledged or resolved, every Slack message that was about it alone (a DM to the person paged, a
-- post to a channel) is updated to say so: who, when, and without the Acknowledge and Escalate buttons. Slack shows
-- nothing when a button's request is answered (block actions ignore the answer's body), so without this a person who
-- acknowledges from Slack sees no change, and a channel keeps offering a button for an alert someone already has.
-- The updates go through the outbox like every other message: written in the transaction that changes the alert (so
-- none is lost and none is sent for a change that rolled back), sent by the worker, retried, recorded.
--
-- `messages` limits the updates to some of the alert's messages: the dispatcher passes the one it has just posted when
-- the alert changed while it was on its way. A bundle's summary (one message about several alerts, which shares its
-- recipient and send time with other rows) has no buttons for any one of them and is left alone.
CREATE FUNCTION slack_follow_up(target uuid, messages uuid[] DEFAULT NULL) RETURNS integer
LANGUAGE sql SET search_path FROM CURRENT AS $$
    WITH queued AS (
        INSERT INTO notification_outbox (idempotency_key, alert_id, provider, method, mode, recipient, payload)
        SELECT 'slack-follow-up:' || o.id || ':' || a.status, a.id, 'slack', o.method, o.mode,
               COALESCE(o.provider_reference, o.recipient),
               jsonb_build_object('alert', o.payload -> 'alert', 'slack_update', jsonb_build_object(
                   'channel', split_part(o.provider_reference, ':', 1), 'ts', split_part(o.provider_reference, ':', 2),
                   'status', a.status,
                   'by', COALESCE('slack:' || u.slack_user_id, CASE a.status WHEN 'resolved' THEN a.resolved_by ELSE a.acknowledged_by END),
                   'at', floor(extract(epoch FROM CASE a.status WHEN 'resolved' THEN a.resolved_at ELSE a.acknowledged_at END))))
        FROM alerts a JOIN notification_outbox o ON o.alert_id = a.id
        -- People who did it in NightOwl are named by their email there; in Slack, a mention reads better.
        LEFT JOIN users u ON lower(u.email) = lower(CASE a.status WHEN 'resolved' THEN a.resolved_by ELSE a.acknowledged_by END)
        WHERE a.id = target AND a.status <> 'firing' AND (messages IS NULL OR o.id = ANY(messages))
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

CREATE FUNCTION alerts_slack_follow_up() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM slack_follow_up(NEW.id);
    RETURN NULL;
END
$$;

-- Only statements that set the status fire it (ingestion's repeats do not), and only for a change.
CREATE TRIGGER alerts_slack_follow_up AFTER UPDATE OF status ON alerts FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status AND NEW.status <> 'firing')
    EXECUTE FUNCTION alerts_slack_follow_up();
