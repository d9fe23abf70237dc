-- Search in one call, and common words without reading every entry that holds them.
--
-- A word held by thousands of entries ('crashloopbackoff' in 6 % of 100,000) made every search for it read all those
-- rows: the GIN index finds them, but their rank needs each row's vector and the total needs each row's visibility,
-- about 5,000 heap pages. For a query whose necessary part is one word, its rank in an entry is the word's own rank
-- there, known when the entry is written. incident_postings keeps it, per word and searchable entry (neither
-- archived nor merged), in rank order: the total is an index-only count, a page is the first rows of the index.
CREATE TABLE incident_postings (
    lexeme      text COLLATE "C" NOT NULL,
    incident_id uuid NOT NULL,
    rank        real NOT NULL
);
CREATE INDEX incident_postings_rank_idx ON incident_postings (lexeme, rank DESC, incident_id);
CREATE INDEX incident_postings_incident_idx ON incident_postings (incident_id);

-- The rank of one word in one vector: what ts_rank gives for the query of that word alone, so that both search paths
-- order entries the same way.
CREATE FUNCTION incident_word_rank(vector tsvector, word text) RETURNS real LANGUAGE sql IMMUTABLE AS $$
    SELECT ts_rank(vector, tsquery_word(word)::tsquery)
$$;

INSERT INTO incident_postings (lexeme, incident_id, rank)
SELECT w.lexeme, i.id, incident_word_rank(i.search_vector, w.lexeme)
FROM incidents i, unnest(i.search_vector) AS w
WHERE i.archived_at IS NULL AND i.merged_into_id IS NULL
ORDER BY 1, 2;

-- Statement-level, so that a bulk insert writes its postings in one pass. An update rewrites the postings of the
-- entries whose vector or searchability changed, and only those (resolution counts and last-seen times change often).
-- Its search_path is the tenant's whatever the writer's.
CREATE FUNCTION incident_postings_refresh() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incident_postings (lexeme, incident_id, rank)
        SELECT w.lexeme, n.id, incident_word_rank(n.search_vector, w.lexeme)
        FROM new_rows n, unnest(n.search_vector) AS w
        WHERE n.archived_at IS NULL AND n.merged_into_id IS NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        -- The DELETE and the INSERT see the same snapshot, so the DELETE never removes the rows written here.
        WITH changed AS (
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.search_vector IS DISTINCT FROM o.search_vector
               OR (n.archived_at IS NULL) <> (o.archived_at IS NULL)
               OR (n.merged_into_id IS NULL) <> (o.merged_into_id IS NULL)
        ), removed AS (
            DELETE FROM incident_postings p USING changed c WHERE p.incident_id = c.id
        )
        INSERT INTO incident_postings (lexeme, incident_id, rank)
        SELECT w.lexeme, n.id, incident_word_rank(n.search_vector, w.lexeme)
        FROM new_rows n JOIN changed c ON c.id = n.id, unnest(n.search_vector) AS w
        WHERE n.archived_at IS NULL AND n.merged_into_id IS NULL;
    ELSE
        DELETE FROM incident_postings p USING old_rows o WHERE p.incident_id = o.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER incidents_postings_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_postings_refresh();
CREATE TRIGGER incidents_postings_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_postings_refresh();
CREATE TRIGGER incidents_postings_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_postings_refresh();

-- One search: the ids of one page of hits in rank order, each with its rank, the total and the query that was run
-- (for highlights); a page past the end is one row with no id; no row at all when nothing searchable was typed.
-- Entries are ranked by the query's necessary part (querytree: the query without its exclusions), so that
-- 'etcd -leader' ranks as 'etcd' does; ranked by the whole query, an exclusion gave every entry the same rank.
--
-- When that part is one word and archived entries are not asked for, the postings answer: the total is the word's
-- postings less the entries that hold the word but fail the query (a query the index answers exactly: 'etcd' and not
-- ('etcd' and not 'leader') finds the few with both words), and the page is read in rank order, each entry checked
-- against the whole query. Otherwise the index finds every hit and each is ranked once.
--
-- Called by name with its schema, in a statement of its own: its search_path is the tenant's, fixed when created.
-- Each statement is planned for the words at hand (custom plans): a kept generic plan does not know that a word is
-- common, and after five calls PostgreSQL switched the page to scanning every entry that matches (25 ms, not 3).
CREATE FUNCTION incident_search_hits(raw text, include_archived boolean, page_limit bigint, page_offset bigint)
RETURNS TABLE (hit_id uuid, hit_rank float8, hit_total bigint, hit_query tsquery)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT SET enable_seqscan = off SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    q tsquery := incident_search_query(raw);
    necessary_text text;
    necessary tsquery;
    word text;
    total bigint;
BEGIN
    IF q IS NULL THEN
        RETURN;
    END IF;
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
            SELECT p.incident_id, p.rank::float8, total, q
            FROM incident_postings p JOIN incidents i ON i.id = p.incident_id
            WHERE p.lexeme = word AND i.search_vector @@ q
            ORDER BY p.rank DESC, p.incident_id LIMIT page_limit OFFSET page_offset;
        IF NOT FOUND THEN
            RETURN QUERY SELECT NULL::uuid, NULL::float8, total, q;
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
        SELECT page.id, page.rank::float8, counted.n, q
        FROM counted LEFT JOIN page ON true
        ORDER BY page.rank DESC, page.id;
END
$$;

-- The entries' other triggers also work in the tenant's schema whatever the writer's search_path, so that a write
-- through a schema-qualified statement (as the hot paths make) cannot skip history or the word list.
ALTER FUNCTION incident_lexemes_collect() SET search_path FROM CURRENT;
ALTER FUNCTION incidents_capture_history() SET search_path FROM CURRENT;
