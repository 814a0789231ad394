-- A dump of the database could not be restored since 032: the generated column
-- products.search_words calls search_title_words(), whose SQL body calls search_fold() by an
-- unqualified name, and pg_restore loads the rows with an empty search_path ("function
-- search_fold(text) does not exist"). The function now carries the search_path it was created
-- under, as a dump does too.
ALTER FUNCTION search_title_words(text, text, text) SET search_path FROM CURRENT;
