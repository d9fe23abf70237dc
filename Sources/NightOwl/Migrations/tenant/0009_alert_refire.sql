-- Repeats of open alerts, the bulk of webhook traffic, counted in one call (see AlertStore.refire). A function so that
-- PostgreSQL plans the statement once per connection, not on every batch (planning cost more than the update): the
-- plan is generic by setting, since PostgreSQL otherwise kept re-planning it, and index-only by setting, since a
-- generic plan does not know how many fingerprints come and on a small table chose sequential scans, which grow with
-- the dead rows every re-fire leaves until vacuum. Its search_path is the tenant's, fixed when the function is
-- created, so it never depends on the caller's.
--
-- Arguments are parallel arrays, one element per distinct fingerprint (events already folded): fingerprint, number of
-- events, latest fired-at, and the latest event's severity, title, description, labels and annotations (JSON text)
-- and agent metadata (JSON text, or '' for none). All or nothing: unless every fingerprint has an open alert, nothing
-- is counted and the caller stores the batch the transactional way. Rows are locked in fingerprint order, the order
-- of every batch statement, so that concurrent batches cannot deadlock.
CREATE FUNCTION alerts_refire(fps text[], counts bigint[], fired timestamptz[], sevs text[], titles text[], descs text[],
                              label_docs text[], annotation_docs text[], agents text[])
RETURNS TABLE (alert_id uuid, alert_fingerprint text)
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
    WITH locked AS (
        SELECT a.id FROM alerts a WHERE a.fingerprint = ANY(fps) AND a.status <> 'resolved' ORDER BY a.fingerprint FOR UPDATE
    ), counted AS (
        UPDATE alerts a SET
            occurrence_count = a.occurrence_count + e.n, last_fired_at = GREATEST(a.last_fired_at, e.lf),
            severity = e.s, title = e.t, description = e.d, labels = e.l::jsonb, annotations = e.an::jsonb,
            agent_metadata = COALESCE(NULLIF(e.agent, '')::jsonb, a.agent_metadata), updated_at = now()
        FROM unnest(fps, counts, fired, sevs, titles, descs, label_docs, annotation_docs, agents) AS e(fp, n, lf, s, t, d, l, an, agent)
        WHERE a.fingerprint = e.fp AND a.status <> 'resolved' AND a.id IN (SELECT locked.id FROM locked)
          AND (SELECT count(*) FROM locked) = cardinality(fps)
        RETURNING a.id, a.fingerprint
    )
    SELECT counted.id, counted.fingerprint FROM counted;
END
$$;
