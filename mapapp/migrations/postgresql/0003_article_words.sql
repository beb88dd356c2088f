-- Migration 3 for PostgreSQL: as ../0003_article_words.sql, the distinct normalised words of each article's
-- text, one row per (article, word) with an index on the word, in place of SQLite's FTS5 table. Rows go with
-- their article, and with its text when the text changes.
CREATE TABLE article_words (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    word       TEXT NOT NULL,
    PRIMARY KEY (word, article_id)
);
CREATE INDEX article_words_article ON article_words(article_id);
CREATE FUNCTION article_words_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM article_words WHERE article_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER article_words_text AFTER UPDATE OF text ON articles FOR EACH ROW EXECUTE FUNCTION article_words_text();
