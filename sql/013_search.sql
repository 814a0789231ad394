-- Search that forgives spelling: word order, apostrophes, script and typos (README "Search").
-- search_fold() maps a text to its search skeleton: Uzbek Latin, Uzbek Cyrillic and Russian
-- spellings of a word become one lower-case Latin string ("Қўл соати", "qoʻl soati" and
-- "кол соати" all fold to "kol soati"). marketplaced/web/search.py holds the same rules in
-- Python for the query side, and a test compares the two on every mapped character.
-- pg_trgm is a trusted extension (PostgreSQL 13+), so the database owner creates it; it ships
-- with Debian's postgresql package.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION search_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(
        replace(replace(replace(
            translate(
                -- letters that become two Latin letters
                replace(replace(replace(replace(replace(replace(replace(replace(replace(
                replace(replace(replace(replace(replace(replace(replace(replace(replace(t,
                    'ё', 'yo'), 'Ё', 'yo'), 'ц', 'ts'), 'Ц', 'ts'), 'ч', 'ch'), 'Ч', 'ch'),
                    'ш', 'sh'), 'Ш', 'sh'), 'щ', 'sh'), 'Щ', 'sh'), 'ю', 'yu'), 'Ю', 'yu'),
                    'я', 'ya'), 'Я', 'ya'), 'ş', 'sh'), 'Ş', 'sh'), 'ç', 'ch'), 'Ç', 'ch'),
                -- letters that become one (in the same position below); the hard and soft
                -- signs and the apostrophes at the end have none, so translate() drops them
                'ABCDEFGHIJKLMNOPQRSTUVWXYZqаАбБвВгГдДеЕжЖзЗиИйЙкКлЛмМнНоОпПрРсСтТуУфФхХыЫэЭўЎқҚғҒҳҲğĞöÖüÜıİ'
                'ъЪьЬ''`´‘’ʹʻʼ',
                'abcdefghijklmnopkrstuvwxyzkaabbvvggddeejjzziiyykkllmmnnoopprrssttuuffxxiieeookkgghhggoouuii'),
            'kh', 'x'), 'zh', 'j'), 'ye', 'e'),
        '[^a-z0-9]+', ' ', 'g'), ' ')
$$;

-- The skeleton of every title, kept by PostgreSQL itself on every insert and update (so the
-- writer needs no change), and a trigram index on it. A stored column rather than an index
-- on the expression: the index recheck and the ranking read the skeleton instead of folding
-- each candidate title again. Adding it rewrites the table once.
DROP INDEX IF EXISTS products_title_trgm;
ALTER TABLE products ADD COLUMN search_text text GENERATED ALWAYS AS
    (search_fold(title || ' ' || coalesce(title_uz, '') || ' ' || coalesce(title_ru, ''))) STORED;
CREATE INDEX products_search_trgm ON products USING gin (search_text gin_trgm_ops);

ALTER TABLE sellers ADD COLUMN search_text text GENERATED ALWAYS AS (search_fold(title)) STORED;
CREATE INDEX sellers_search_trgm ON sellers USING gin (search_text gin_trgm_ops);
