"""Reading article files: plain text, Markdown and HTML, with optional front matter, into a Document."""
from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from mapapp.errors import InputTooLarge, MalformedFile
from mapapp.escaping import is_invisible, strip_invisible

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 5 * 1024 * 1024

_FRONT_MATTER_KEYS = {"title": "title", "source": "source", "publisher": "source", "author": "author",
                      "date": "published", "published": "published", "url": "url", "link": "url", "near": "near"}
_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.+\-Z]*)?$")


@dataclass
class Document:
    """One article as read from a file: its visible text and whatever metadata the file itself declares."""

    path: Path
    text: str
    title: str = ""
    source: str = ""
    published: str | None = None
    url: str | None = None
    author: str = ""
    near: str | None = None  # the home region the file declares (front matter `near:`), a place name or id
    fetched_url: str | None = None  # the address a web page was fetched from (`url`: the one it names itself)

    @property
    def key(self) -> str:
        """Identity for re-ingest: the original URL when known, else the file name."""
        return self.url or self.path.name


def as_path(raw) -> Path:
    """`raw` (a command-line argument) as a Path; an empty name is an error, never the current folder."""
    if os.fspath(raw) == "":
        raise MalformedFile("empty path: name a file or folder")
    return Path(raw)


def _inside(folder: str, target: str) -> bool:
    return target == folder or target.startswith(folder.rstrip(os.sep) + os.sep)


def _folder_files(root: Path, follow_symlinks: bool) -> tuple[list[Path], list[MalformedFile]]:
    """Every supported, non-hidden file under `root`; symbolic links leading outside it are refused.

    A link that stays inside `root` names a file or folder that is read anyway; one that leads outside
    could publish any file the user can read (a link to /etc/passwd), so it is reported and skipped unless
    `follow_symlinks`. Each real file and folder is read once, so links cannot loop.
    """
    real_root = os.path.realpath(root)
    files: dict[str, Path] = {}
    errors: list[MalformedFile] = []
    seen_folders = {real_root}
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            errors.append(MalformedFile(error.strerror or str(error), path=str(folder)))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            is_link = entry.is_symlink()
            real = os.path.realpath(path) if is_link else None
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            wanted = is_folder or path.suffix.lower() in SUPPORTED_SUFFIXES
            if is_link and wanted and not follow_symlinks and not _inside(real_root, real):
                errors.append(MalformedFile(f"symbolic link leading outside {root}, not followed "
                                            "(--follow-symlinks reads it)", path=str(path)))
                continue
            if is_link and wanted and not os.path.exists(real):
                errors.append(MalformedFile("broken symbolic link", path=str(path)))
                continue
            if is_folder:
                real = real or os.path.realpath(path)
                if real not in seen_folders:
                    seen_folders.add(real)
                    pending.append(path)
            elif wanted:
                real = real or os.path.realpath(path)
                # Link and target both in the folder: one article, named by the file itself.
                if real not in files or (files[real].is_symlink() and not is_link):
                    files[real] = path
    return sorted(files.values()), errors


def iter_paths(paths, *, follow_symlinks: bool = False) -> tuple[list[Path], list[MalformedFile]]:
    """Expand files and folders (every supported file inside, recursively) into files, plus path errors.

    A symbolic link given as a path, or met inside a folder and leading outside it, is refused (one error
    each) unless `follow_symlinks`.
    """
    files, errors = [], []
    for raw in paths:
        try:
            path = as_path(raw)
        except MalformedFile as error:
            errors.append(error)
            continue
        if path.is_symlink() and not follow_symlinks:
            errors.append(MalformedFile("symbolic link, not followed (--follow-symlinks reads it)", path=str(path)))
        elif path.is_dir():
            found, refused = _folder_files(path, follow_symlinks)
            files.extend(found)
            errors.extend(refused)
        elif path.exists():
            files.append(path)  # read_document refuses what is not a regular file, with the reason
        else:
            errors.append(MalformedFile("no such file or folder", path=str(path)))
    return files, errors


def check_date(value: str, *, path: str | None = None, field: str = "date") -> str:
    """An ISO date YYYY-MM-DD from `value` (a time part is dropped), or MalformedFile."""
    match = _ISO_DATE.match(value.strip())
    try:
        if match:
            return dt.date.fromisoformat(match.group(1)).isoformat()
    except ValueError:
        pass
    raise MalformedFile(f"{field} {value[:40]!r} is not a date YYYY-MM-DD", path=path, field=field)


def check_url(value: str, *, path: str | None = None) -> str:
    """`value` if it is an http(s) URL (anything else could become a javascript: link), else MalformedFile."""
    value = value.strip()
    if not re.match(r"^https?://[^\s<>\"']+$", value, re.IGNORECASE) or any(is_invisible(ch) for ch in value):
        raise MalformedFile(f"url {value[:60]!r} is not an http(s) URL", path=path, field="url")
    return value


def _split_front_matter(text: str, path: str) -> tuple[dict, str]:
    """Split a leading `---` block of `key: value` lines from the body; values may be quoted."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0 or text[end + 4:end + 5] not in ("", "\n"):
        raise MalformedFile("front matter opened with --- is never closed", path=path, line=1)
    meta = {}
    for number, line in enumerate(text[4:end].split("\n"), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise MalformedFile(f"front matter line is not 'key: value': {line[:60]!r}", path=path, line=number)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        field = _FRONT_MATTER_KEYS.get(key.strip().lower())
        if field and value:
            meta[field] = value
    return meta, text[end + 4:].lstrip("\n")


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")


def markdown_text(source: str) -> tuple[str, str]:
    """(visible text, first heading) of Markdown: heading marks, emphasis and link targets removed."""
    text = _MD_LINK.sub(lambda m: m.group(1), source)
    text = _MD_HEADING.sub("", text)
    text = _MD_EMPHASIS.sub(lambda m: m.group(2), text)
    heading = re.search(r"^ {0,3}#{1,6}\s+(.+)$", source, re.MULTILINE)
    title = heading.group(1).strip().rstrip("#").strip() if heading else ""
    return text, _MD_EMPHASIS.sub(lambda m: m.group(2), _MD_LINK.sub(lambda m: m.group(1), title))


class _VisibleText(HTMLParser):
    """Collects the text a reader sees, one block per line, plus <title>/<h1> and <meta> metadata."""

    SKIP: ClassVar[set[str]] = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
    BLOCK: ClassVar[set[str]] = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
             "section", "article", "header", "footer", "nav", "main", "aside", "blockquote", "pre", "hr",
             "figcaption", "dd", "dt"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.title = ""
        self.h1 = ""
        self._skip = 0
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "meta":
            name = (attrs.get("property") or attrs.get("name") or "").lower()
            if name and attrs.get("content"):
                self.meta.setdefault(name, attrs["content"].strip())
        elif tag == "link" and attrs.get("rel", "").lower() == "canonical" and attrs.get("href"):
            self.meta.setdefault("canonical", attrs["href"].strip())
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")
        self._in_h1 = self._in_h1 or tag == "h1"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._skip:
            return
        if self._in_h1:
            self.h1 += data
        self.parts.append(data)

    def text(self) -> str:
        lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in "".join(self.parts).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_document(source: str) -> tuple[str, dict]:
    """(visible text, metadata from <title>/<h1>/<meta>) of an HTML page; scripts and styles are dropped."""
    parser = _VisibleText()
    parser.feed(source)
    parser.close()
    meta = parser.meta
    found = {
        "title": meta.get("og:title") or parser.h1.strip() or parser.title.strip(),
        "source": meta.get("og:site_name") or meta.get("publisher") or "",
        "published": meta.get("article:published_time") or meta.get("date") or "",
        "url": meta.get("og:url") or meta.get("canonical") or "",
    }
    return parser.text(), {key: " ".join(value.split()) for key, value in found.items() if value}


def format_size(size: int) -> str:
    """A byte count as people write limits: 5 MB, 200 kB or 1234 bytes (1 MB = 1024 kB)."""
    for unit, factor in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _file_kind(mode: int) -> str | None:
    """None for a regular file, else what it is (a FIFO would block the reader forever)."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """At most `max_bytes` of a regular file; MalformedFile for anything else, InputTooLarge beyond it."""
    where = str(path)
    try:
        kind = _file_kind(path.stat().st_mode)
        if kind:
            raise MalformedFile(f"is {kind}, not a file to read", path=where)
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise MalformedFile(f"unsupported file type {path.suffix.lower() or '(none)'!r}; use .txt, .md or .html",
                                path=where)
        # O_NONBLOCK: if the file was swapped for a FIFO since stat, open returns at once and fstat says so.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            kind = _file_kind(info.st_mode)
            if kind:
                raise MalformedFile(f"is {kind}, not a file to read", path=where)
            if info.st_size > max_bytes:
                raise InputTooLarge(f"{where}: {info.st_size:,} bytes is over the {format_size(max_bytes)} limit"
                                    " (--max-size raises it)")
            raw = handle.read(max_bytes + 1)
    except OSError as error:
        raise MalformedFile(error.strerror or str(error), path=where) from None
    if len(raw) > max_bytes:  # the file grew after fstat
        raise InputTooLarge(f"{where}: over the {format_size(max_bytes)} limit (--max-size raises it)")
    return raw


def one_line(value: str) -> str:
    """`value` as one line of visible text: invisible characters dropped, runs of whitespace one space."""
    return " ".join(strip_invisible(value).split())


def read_document(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read one regular file into a Document; MalformedFile (naming the file) for anything unreadable.

    This is the one reading of an article, shared by `mapapp ingest` and `mapapp geoparse`: front matter and
    markup are removed, newlines normalised to \\n, and invisible characters (control, bidi overrides,
    zero-width; see mapapp.escaping.is_invisible) dropped from the text and the metadata, so that
    what is stored and shown is what is geoparsed, and mention offsets index `Document.text`.
    """
    where = str(path)
    raw = _read_bytes(path, max_bytes)
    suffix = path.suffix.lower()
    if b"\x00" in raw:
        raise MalformedFile("binary file, not text", path=where)
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MalformedFile(f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})",
                            path=where) from None
    return parse_document(source, path=path, kind=suffix)


def page_document(html: str, *, url: str, name: str) -> Document:
    """A web page fetched from `url` as a Document, read exactly as an .html file is (no front matter).

    Its `url` is the page's own canonical URL (`<link rel=canonical>`, og:url), else `url`; `name` stands in
    for a file name (the title when the page has none).
    """
    document = parse_document(html, path=Path(name), kind=".html", front_matter=False, fetched_url=url)
    document.url = document.url or url
    return document


def parse_document(source: str, *, path: Path, kind: str, front_matter: bool = True,
                   fetched_url: str | None = None) -> Document:
    """Read decoded text of type `kind` (a file suffix) into a Document; see read_document."""
    where = str(path)
    suffix = kind
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    meta, body = _split_front_matter(source, where) if front_matter else ({}, source)
    if suffix in HTML_SUFFIXES:
        # Imported here: trafilatura takes about half a second to import, and only HTML needs it.
        from mapapp.articles.extract import extract_article

        page = extract_article(body, url=fetched_url)
        body = page.text
        found = {"title": page.title, "source": page.publisher, "published": page.published, "url": page.url,
                 "author": page.author}
        found = {key: " ".join(value.split()) for key, value in found.items() if value}
        # A page's own <meta> is a hint: drop what does not parse instead of refusing the article.
        for field, check in (("published", check_date), ("url", check_url)):
            try:
                found[field] = check(found[field]) if field in found else None
            except MalformedFile:
                found[field] = None
        meta = {**{key: value for key, value in found.items() if value}, **meta}
    elif suffix in MARKDOWN_SUFFIXES:
        body, heading = markdown_text(body)
        if heading:
            meta.setdefault("title", heading)
    # Stripped after the markup is gone: HTML character references (&#x202e;) can produce them too.
    body = strip_invisible(body).strip()
    if not body:
        raise MalformedFile("empty file: no text to read", path=where)
    published = meta.get("published")
    return Document(
        path=path, text=body, title=one_line(meta.get("title", "")), source=one_line(meta.get("source", "")),
        author=one_line(meta.get("author", "")),
        published=check_date(published, path=where) if published else None,
        url=check_url(meta["url"], path=where) if meta.get("url") else None,
        near=one_line(meta["near"]) or None if meta.get("near") else None, fetched_url=fetched_url,
    )
