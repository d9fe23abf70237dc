-- Highlights only for the fields that can have one.
--
-- A page of results asked PostgreSQL for five headlines per entry (title, error patterns, symptoms, root cause,
-- solution), and ts_headline parses its field again each time: about a third of a search's time in the database for
-- a page of 20, while most fields hold none of the query's words and their headline was thrown away. The entry's own
-- vector tells which fields can: its weights are the fields' (A title and error patterns, B symptoms and root cause,
-- C solution), so a field whose weight holds none of the query's words (any of them, exclusions included, since
-- ts_headline marks those too) has nothing to highlight. The search now also returns that "any word" query.

-- Every word of a query, as one OR query without weights: 'etcd' & !'leader' gives 'etcd' | 'leader'.
CREATE FUNCTION incident_query_words(q tsquery) RETURNS tsquery LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT string_agg(m[1] || CASE WHEN m[2] = '*' THEN ':*' ELSE '' END, ' | ')::tsquery
    FROM regexp_matches(q::text, '(''(?:[^'']|'''')*'')(?::(\*?)[A-D]*)?', 'g') AS m
$$;

DROP FUNCTION incident_search_hits(text, boolean, bigint, bigint);

-- As in 0011, with the query's words as a fifth column.
CREATE FUNCTION incident_search_hits(raw text, include_archived boolean, page_limit bigint, page_offset bigint)
RETURNS TABLE (hit_id uuid, hit_rank float8, hit_total bigint, hit_query tsquery, hit_words tsquery)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT SET enable_seqscan = off SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    q tsquery := incident_search_query(raw);
    necessary_text text;
    necessary tsquery;
    word text;
    total bigint;
    words tsquery;
BEGIN
    IF q IS NULL THEN
        RETURN;
    END IF;
    words := incident_query_words(q);
    -- 'T' when no part is necessary (only exclusions): ranked by the whole query then.
    necessary_text := querytree(q);
    necessary := CASE WHEN necessary_text = 'T' THEN q ELSE necessary_text::tsquery END;
    word := substring(necessary::text FROM '^''((?:[^'']|'''')*)''$');
    IF word IS NOT NULL THEN
        word := replace(word, '''''', '''');
        IF tsquery_word(word)::tsquery::text <> necessary::text THEN
            word := NULL;
        END IF;
    END IF;

    IF word IS NOT NULL AND NOT include_archived THEN
        SELECT count(*) INTO total FROM incident_postings p WHERE p.lexeme = word;
        IF q::text <> necessary::text THEN
            total := total - (SELECT count(*) FROM incidents i
                              WHERE i.search_vector @@ (necessary && !! q) AND i.merged_into_id IS NULL AND i.archived_at IS NULL);
        END IF;
        RETURN QUERY
            SELECT p.incident_id, p.rank::float8, total, q, words
            FROM incident_postings p JOIN incidents i ON i.id = p.incident_id
            WHERE p.lexeme = word AND i.search_vector @@ q
            ORDER BY p.rank DESC, p.incident_id LIMIT page_limit OFFSET page_offset;
        IF NOT FOUND THEN
            RETURN QUERY SELECT NULL::uuid, NULL::float8, total, q, words;
        END IF;
        RETURN;
    END IF;

    RETURN QUERY
        WITH hits AS MATERIALIZED (
            SELECT i.id, ts_rank(i.search_vector, necessary) AS rank
            FROM incidents i
            WHERE i.search_vector @@ q AND i.merged_into_id IS NULL AND (include_archived OR i.archived_at IS NULL)
        ), counted AS (
            SELECT count(*) AS n FROM hits
        ), page AS (
            SELECT hits.id, hits.rank FROM hits ORDER BY hits.rank DESC, hits.id LIMIT page_limit OFFSET page_offset
        )
        SELECT page.id, page.rank::float8, counted.n, q, words
        FROM counted LEFT JOIN page ON true
        ORDER BY page.rank DESC, page.id;
END
$$;
