-- The re-fire call (see the tenant migrations 0009 and 0013) as one function for every tenant, so that the statement
-- that calls it is the same text for all of them and the server can keep it prepared on each pooled connection: the
-- per-tenant function needed the schema in the statement, and so a parse and plan of the call every time (about
-- 80 µs of a 0.5 ms call, measured with pgbench). The function sets the tenant's search_path for its own duration
-- only (the SET clause below restores it on exit), so nothing outlives the call on the connection; PL/pgSQL's plans
-- are re-made when the search_path differs from the one they were made for, so tenants cannot share a plan.
--
-- Arguments as in the tenant migration 0009, after the tenant's schema name. All or nothing, as before, but without
-- counting first (8 index probes per call): the update changes every row it can, and when that is fewer than asked
-- (a fingerprint with no open alert, or one resolved while the call ran) it fails with SQLSTATE OW001, which rolls the
-- statement back whole; the caller then stores the batch in a transaction.
-- The planner settings keep the one plan that locks rows in the order of the sorted arguments (see 0013).
CREATE OR REPLACE FUNCTION public.alerts_refire(tenant_schema text, fps text[], counts bigint[], fired timestamptz[],
                                                sevs text[], titles text[], descs text[], label_docs text[],
                                                annotation_docs text[], agents text[])
RETURNS TABLE (alert_id uuid, alert_fingerprint text)
LANGUAGE plpgsql SET search_path = public SET plan_cache_mode = force_generic_plan SET enable_seqscan = off
    SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
    changed bigint;
BEGIN
    IF tenant_schema !~ '^tenant_[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'not a tenant schema: %', tenant_schema USING ERRCODE = 'invalid_schema_name';
    END IF;
    PERFORM set_config('search_path', format('%I, public', tenant_schema), true);
    RETURN QUERY
    UPDATE alerts a SET
        occurrence_count = a.occurrence_count + e.n, last_fired_at = GREATEST(a.last_fired_at, e.lf),
        severity = e.s, title = e.t, description = e.d, labels = e.l::jsonb, annotations = e.an::jsonb,
        agent_metadata = COALESCE(NULLIF(e.agent, '')::jsonb, a.agent_metadata), updated_at = now()
    FROM unnest(fps, counts, fired, sevs, titles, descs, label_docs, annotation_docs, agents) AS e(fp, n, lf, s, t, d, l, an, agent)
    WHERE a.fingerprint = e.fp AND a.status <> 'resolved'
    RETURNING a.id, a.fingerprint;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed <> cardinality(fps) THEN
        RAISE EXCEPTION 'not every alert of the batch is open' USING ERRCODE = 'OW001';
    END IF;
END
$$;
