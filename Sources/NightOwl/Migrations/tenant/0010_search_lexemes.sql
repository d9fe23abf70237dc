-- Every word (lexeme) the knowledge base's search vectors hold, so that a search can turn what an operator typed into
-- the words that exist before it touches the entries:
--   * a fragment becomes the words it begins ('crashloop' -> 'crashloopbackoff'), which the GIN index answers exactly;
--     a prefix match (:*) made PostgreSQL re-check every candidate entry and cost up to twice as much;
--   * an unknown word becomes its nearest known words by trigram similarity (typos: 'crashlop'), over this small
--     table instead of every title.
-- Words are only added (a word no entry holds any more matches nothing).
CREATE TABLE incident_lexemes (
    lexeme text COLLATE "C" PRIMARY KEY
);
-- No pending list (fastupdate): new words are rare, and every search would otherwise scan the unsorted pending
-- entries (11 ms instead of 0.3 ms for one typo on 100,000 words). The same holds for the entries' own index.
CREATE INDEX incident_lexemes_trgm_idx ON incident_lexemes USING gin (lexeme public.gin_trgm_ops) WITH (fastupdate = off);
ALTER INDEX incidents_search_idx SET (fastupdate = off);

INSERT INTO incident_lexemes (lexeme)
SELECT DISTINCT l FROM incidents, unnest(tsvector_to_array(search_vector)) AS l ORDER BY l
ON CONFLICT DO NOTHING;

-- Statement-level, so a bulk insert adds its words in one sorted pass (sorted: concurrent writers cannot deadlock).
CREATE FUNCTION incident_lexemes_collect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO incident_lexemes (lexeme)
    SELECT DISTINCT l FROM changed, unnest(tsvector_to_array(changed.search_vector)) AS l ORDER BY l
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER incidents_lexemes_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION incident_lexemes_collect();
CREATE TRIGGER incidents_lexemes_update AFTER UPDATE ON incidents
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION incident_lexemes_collect();

-- A word as a quoted tsquery operand.
CREATE FUNCTION tsquery_word(word text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '''' || replace(replace(word, '\', '\\'), '''', '''''') || ''''
$$;

-- One query word as a tsquery fragment: numbers exactly; a known word with the words it begins (up to 50, beyond
-- that a prefix match); an unknown word as its three nearest known words, or itself when nothing is near. The words
-- that begin with a term are a range in C order (U+10FFFF sorts after every other character), which the kept plan
-- can answer from the primary key; the planner does not see that a parameter's LIKE pattern is a prefix. Only bitmap
-- scans: the kept plan otherwise read every word for the similarity (a sequential or a full primary-key scan).
CREATE FUNCTION incident_search_term(term text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT
SET enable_seqscan = off SET enable_indexscan = off SET enable_indexonlyscan = off AS $$
DECLARE
    words text[];
BEGIN
    IF term !~ '[[:alpha:]]' THEN
        RETURN tsquery_word(term);
    END IF;
    SELECT array_agg(w.lexeme) INTO words FROM (
        SELECT lexeme FROM incident_lexemes WHERE lexeme >= term AND lexeme < term || chr(1114111)
        ORDER BY lexeme LIMIT 51
    ) w;
    IF words IS NULL THEN
        SELECT array_agg(w.lexeme) INTO words FROM (
            SELECT lexeme FROM incident_lexemes WHERE lexeme OPERATOR(public.%) term
            ORDER BY public.similarity(lexeme, term) DESC, lexeme LIMIT 3
        ) w;
        IF words IS NULL THEN
            RETURN tsquery_word(term);
        END IF;
    ELSIF cardinality(words) > 50 THEN
        RETURN tsquery_word(term) || ':*';
    END IF;
    RETURN '(' || (SELECT string_agg(tsquery_word(w), ' | ') FROM unnest(words) AS w) || ')';
END
$$;

-- What a search box holds, as the tsquery to run: websearch syntax (quotes, OR, -exclusion), English stemming, then
-- every word through incident_search_term. NULL when nothing searchable remains (only stop words).
CREATE FUNCTION incident_search_query(raw text) RETURNS tsquery
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
    rest text := websearch_to_tsquery('english', raw)::text;
    result text := '';
    part text[];
BEGIN
    IF rest = '' THEN
        RETURN NULL;
    END IF;
    -- The parsed query quotes each word; callers strip quotes and backslashes from the text, so words hold none.
    LOOP
        part := regexp_match(rest, '^([^'']*)''([^'']*)''(.*)$');
        EXIT WHEN part IS NULL;
        result := result || part[1] || incident_search_term(part[2]);
        rest := part[3];
    END LOOP;
    RETURN (result || rest)::tsquery;
END
$$;

DROP INDEX incidents_title_trgm_idx;
