-- Migration 3 for PostgreSQL: as ../0003_article_words.sql, the distinct normalised words of each article's
-- text, one row per article (an array, with a GIN index that answers "holds all these words"), in place of
-- SQLite's FTS5 table. A row goes with its article, and with its text when the text changes.
CREATE TABLE article_words (
    article_id BIGINT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    words      TEXT[] NOT NULL
);
CREATE INDEX article_words_words ON article_words USING GIN (words);
CREATE FUNCTION article_words_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM article_words WHERE article_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER article_words_text AFTER UPDATE OF text ON articles FOR EACH ROW EXECUTE FUNCTION article_words_text();
