-- Product search by words instead of by trigrams of the whole title (README "Search").
-- A trigram match must be rechecked on every candidate row (strict_word_similarity on the
-- whole folded title, per query word, plus the ranking): ~100 µs a row, so a common word
-- matching 15 000 products cost seconds. Now typos are resolved once per query word against
-- the vocabulary of all title words (small, trigram-indexed), and products are found by exact
-- word membership (`search_words && candidates`, a GIN array index, no costly recheck).

-- Every folded word of every product title, ever (a word whose products are gone matches
-- nothing, so it is never pruned). Kept by the statement triggers below, so no writer changes.
CREATE TABLE search_vocabulary (word text PRIMARY KEY);
CREATE INDEX search_vocabulary_trgm ON search_vocabulary USING gin (word gin_trgm_ops);

-- The folded title as its words; replaces the trigram-indexed skeleton (rewrites `products`
-- once, as 013 did).
DROP INDEX products_search_trgm;
ALTER TABLE products DROP COLUMN search_text;
ALTER TABLE products ADD COLUMN search_words text[] GENERATED ALWAYS AS (string_to_array(
    search_fold(title || ' ' || coalesce(title_uz, '') || ' ' || coalesce(title_ru, '')), ' '))
    STORED;
CREATE INDEX products_search_words ON products USING gin (search_words);

INSERT INTO search_vocabulary (word)
SELECT DISTINCT w FROM products, unnest(search_words) w WHERE w <> '';

-- One INSERT per writer statement (not per row): the new words of the whole batch, in word
-- order so that two writers adding overlapping words take their row locks in the same order.
CREATE FUNCTION search_vocabulary_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_vocabulary (word)
    SELECT DISTINCT w FROM new_rows, unnest(new_rows.search_words) w
    WHERE w <> '' ORDER BY w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER products_vocabulary_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_vocabulary_add();
CREATE TRIGGER products_vocabulary_update AFTER UPDATE ON products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_vocabulary_add();
