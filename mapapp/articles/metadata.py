"""Title, publisher and date detected from an article's own text (datelines, bylines, sign-offs)."""
from __future__ import annotations

import datetime as dt
import re

MONTHS = {name: number for number, names in enumerate([
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
    ("november", "nov"), ("december", "dec")], start=1) for name in names}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?"
_TIME = r"\d{1,2}:\d{2}"

# Whole lines that are only a date: "Friday May 24 2024", "30 December 2023 12:59 (UTC+04:00)".
_DATE_LINE = re.compile(
    rf"^(?:{_WEEKDAY}\s+)?(?:{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})"
    rf"|(?P<day2>\d{{1,2}})\s+{_MONTH.replace('month', 'month2')}\s+(?P<year2>\d{{4}}))"
    rf"(?P<time>,?\s+{_TIME})?(?:\s*\([^)]*\))?$", re.IGNORECASE)
# "Published: APRIL 13, 2022 17:28", "Updated: ..." is not the publication date.
_PUBLISHED = re.compile(rf"^(?:published|posted)(?: on)?:?\s+(?:{_WEEKDAY}\s+)?{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+"
                        rf"(?P<year>\d{{4}})", re.IGNORECASE)
# Agency datelines: "MOSCOW, November 12. /TASS/." and "YEREVAN, MARCH 26, ARMENPRESS."
_DATELINE = re.compile(
    rf"^(?P<city>[A-Z][A-Z .'\-]+),\s+{_MONTH}\s+(?P<day>\d{{1,2}})(?:,\s+(?P<year>\d{{4}}))?"
    rf"\s*[.,]\s*(?:/(?P<agency>[A-Za-z][\w .\-]*)/|(?P<agency2>[A-Z][A-Z\-]+)\.)", re.IGNORECASE)
# A publisher naming itself: "..., Azernews reports." (present tense; "Interfax reported on May 14" cites
# another agency), a sign-off such as Meduza's "Meduza is you.", or a reprint notice.
_SELF_NAMED = [
    re.compile(r",\s+(?P<name>[A-Z][\w\-]+(?: [A-Z][\w\-]+)?) reports\.\s*$", re.MULTILINE),
    re.compile(r"^(?P<name>[A-Z][\w\-]+) is you\.\s*$", re.MULTILINE),
    re.compile(r"permission from (?P<name>[A-Z][\w\-]+) news agency", re.IGNORECASE),
]
_YEAR_NEAR_MONTH = re.compile(rf"\b{_MONTH}\s+(?:\d{{1,2}},?\s+)?(?:of\s+)?(?P<year>(?:19|20)\d{{2}})\b"
                              rf"|\b(?P<year2>(?:19|20)\d{{2}})\s+{_MONTH.replace('month', 'month2')}",
                              re.IGNORECASE)
_NOT_TITLE = re.compile(r"^(?:all news|news|home|menu|latest|share|read more|\d+ min(?:ute)? read|by .+)$",
                        re.IGNORECASE)


def _date(year, month, day) -> str | None:
    try:
        return dt.date(int(year), MONTHS[month.lower().rstrip(".")], int(day)).isoformat()
    except (ValueError, KeyError):
        return None


def _publisher(name: str) -> str:
    # Agencies shout their names in datelines (ARMENPRESS); short all-caps names are acronyms (TASS).
    name = name.strip()
    return name.capitalize() if name.isupper() and len(name) > 4 else name


def _stated_year(text: str) -> str | None:
    """The latest year the text states next to a month ("March 8 of 2022"), to complete a yearless dateline."""
    years = [m.group("year") or m.group("year2") for m in _YEAR_NEAR_MONTH.finditer(text)]
    return max(years) if years else None


def detect_title(lines: list[str]) -> str:
    """The first meaningful line: not navigation ("All news"), a bare date, a reading time or a byline."""
    for line in lines[:15]:
        if len(line) < 4 or _NOT_TITLE.match(line) or _DATE_LINE.match(line) or _DATELINE.match(line):
            continue
        return line[:300]
    return ""


def detect_metadata(text: str) -> dict:
    """{"title", "source", "published"} found in the text; "" / None where the text does not say."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    source, published = "", None
    head = lines[:25]
    for line in head:
        match = _PUBLISHED.match(line)
        if match:
            published = _date(match.group("year"), match.group("month"), match.group("day"))
            break
    if published is None:
        for line in head:
            # A date line with a time is the article's timestamp; one without is usually the site's "today".
            match = _DATE_LINE.match(line)
            if match and match.group("time"):
                published = (_date(match.group("year"), match.group("month"), match.group("day"))
                             if match.group("year") else
                             _date(match.group("year2"), match.group("month2"), match.group("day2")))
                break
    for line in head:
        match = _DATELINE.match(line)
        if match:
            source = _publisher(match.group("agency") or match.group("agency2"))
            year = match.group("year") or _stated_year(text)
            if published is None and year:
                published = _date(year, match.group("month"), match.group("day"))
            break
    if not source:
        for pattern in _SELF_NAMED:
            match = pattern.search(text)
            if match:
                source = _publisher(match.group("name"))
                break
    return {"title": detect_title(lines), "source": source, "published": published}
