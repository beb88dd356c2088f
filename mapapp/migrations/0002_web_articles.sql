-- Articles from the web and full-text search (mapapp.articles.fetch, urls, feeds, search).

-- Who wrote it, where it was fetched from (articles.url is the page's canonical URL), and a 64-bit simhash of the
-- normalised text (mapapp.articles.fingerprint) that finds the same story under another address.
ALTER TABLE articles ADD COLUMN author TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN fetched_url TEXT;
ALTER TABLE articles ADD COLUMN fingerprint INTEGER;
CREATE INDEX articles_fetched_url ON articles(fetched_url);

-- Full-text search over the articles' titles and texts (FTS5, external content: the text is stored once, in
-- articles). The triggers keep it in step in the same transaction as every write of an article.
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, text, content='articles', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
-- The articles stored before this step.
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');

-- Followed RSS/Atom feeds (mapapp.articles.feeds) and the validators of their last response, for
-- conditional requests (If-None-Match / If-Modified-Since).
CREATE TABLE feeds (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL DEFAULT '',
    etag          TEXT,
    last_modified TEXT,
    added_at      TEXT NOT NULL,
    polled_at     TEXT,                     -- last poll, whatever its outcome
    status        TEXT NOT NULL DEFAULT ''  -- one line: the last poll's outcome
);
-- Item links a feed has listed that were dealt with (ingested, skipped as a duplicate, or failed for good:
-- 404, not HTML, robots.txt): the next poll does not fetch them again. An item that failed in a way that may
-- pass (timeout, refused connection, HTTP 429/5xx) is not recorded, so the next poll retries it.
CREATE TABLE feed_items (
    feed_id    INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    link       TEXT NOT NULL,
    outcome    TEXT NOT NULL,               -- ingested, skipped, failed
    article_id INTEGER,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (feed_id, link)
) WITHOUT ROWID;
