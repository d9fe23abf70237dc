-- Notifications move into the shared outbox (core migration 0007): one table, one claim with a lease, one retry rule
-- and one record of attempts for every outbound message of the tenant. NightOwl's rules stay its own (the
-- `notification` handler: cancel when the alert is acknowledged, bundle and rate-limit per recipient, follow Slack
-- messages up, page the next tier when a whole step failed); `notification_outbox` becomes the view of its messages
-- under the names NightOwl has always used, so its queries and the functions of 0015–0017 read as before.

-- Returns rows of the table that goes away; made again below over the view.
DROP FUNCTION slack_alert_messages(uuid, uuid[]);

INSERT INTO outbox (id, idempotency_key, handler, subject_id, stage, provider, channel, mode, recipient, payload, status, attempts,
                    next_attempt_at, lease_until, last_error, provider_reference, created_at, sent_at)
SELECT id, idempotency_key, 'notification', alert_id, step, provider, method, mode, recipient, payload, status, attempts,
       next_attempt_at, lease_until, last_error, provider_reference, created_at, sent_at
FROM notification_outbox ORDER BY created_at, id;

INSERT INTO outbox_attempts (message_id, outcome, error, attempted_at)
SELECT notification_id, outcome, error, attempted_at FROM notification_attempts ORDER BY id;

DROP TABLE notification_attempts;
DROP TABLE notification_outbox;

CREATE VIEW notification_outbox AS
    SELECT id, idempotency_key, subject_id AS alert_id, stage AS step, provider, channel AS method, mode, recipient, payload, status,
           attempts, next_attempt_at, lease_until, last_error, provider_reference, created_at, sent_at, handler
    FROM outbox WHERE handler = 'notification'
    WITH CHECK OPTION;
ALTER VIEW notification_outbox ALTER COLUMN handler SET DEFAULT 'notification';
ALTER VIEW notification_outbox ALTER COLUMN next_attempt_at SET DEFAULT now();
ALTER VIEW notification_outbox ALTER COLUMN created_at SET DEFAULT now();

-- As in 0017.
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

-- The messages of alerts deleted by retention go with them, as the table's foreign key made them before.
CREATE FUNCTION alerts_drop_notifications() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM outbox WHERE handler = 'notification' AND subject_id IN (SELECT id FROM gone);
    RETURN NULL;
END
$$;

CREATE TRIGGER alerts_drop_notifications AFTER DELETE ON alerts REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION alerts_drop_notifications();
