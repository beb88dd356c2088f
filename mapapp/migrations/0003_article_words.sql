-- The distinct words of each article's text, normalised as place names are (rowid = articles.id): the articles
-- an admin's edit of a name may touch are looked up here instead of normalising every text on each save
-- (mapapp.articles.store.affected_articles). A row goes with its article's text; a missing one is added on use,
-- so the articles stored before this step are indexed the first time the index is used.
CREATE VIRTUAL TABLE article_words USING fts5(words, tokenize = 'ascii', detail = none);
CREATE TRIGGER article_words_delete AFTER DELETE ON articles BEGIN
    DELETE FROM article_words WHERE rowid = old.id;
END;
CREATE TRIGGER article_words_text AFTER UPDATE OF text ON articles BEGIN
    DELETE FROM article_words WHERE rowid = old.id;
END;
