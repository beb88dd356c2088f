"""The Place record: one gazetteer entry, as stored in the `places` table."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Place:
    """One gazetteer entry; `geometry` is a GeoJSON geometry dict or None for a bare point."""

    id: str
    name: str
    feature: str
    lat: float
    lon: float
    feature_code: str = ""
    country_code: str | None = None
    admin1: str = ""
    admin2: str = ""
    population: int = 0
    geometry: dict | None = None
    approximate: bool = False
    source: str = ""
    notes: str = ""
    version: int = 1
    aliases: tuple[str, ...] = field(default=(), compare=False)

    @property
    def geometry_type(self) -> str:
        """GeoJSON type of the place's shape ("Point" when it has none)."""
        return self.geometry["type"] if self.geometry else "Point"

    def point_geometry(self) -> dict:
        """The shape, or a GeoJSON Point at (lat, lon) when there is none."""
        return self.geometry or {"type": "Point", "coordinates": [self.lon, self.lat]}

    def to_record(self) -> dict:
        """A JSON-ready dict of every field (what history and the API store and show)."""
        record = asdict(self)
        record["aliases"] = list(self.aliases)
        record["geometry_type"] = self.geometry_type
        return record

    @classmethod
    def from_row(cls, row, aliases=()) -> "Place":
        """Build from a `places` row (sqlite3.Row or dict)."""
        geometry = row["geometry"]
        return cls(
            id=row["id"], name=row["name"], feature=row["feature"], lat=row["lat"], lon=row["lon"],
            feature_code=row["feature_code"] or "", country_code=row["country_code"],
            admin1=row["admin1"] or "", admin2=row["admin2"] or "", population=row["population"] or 0,
            geometry=json.loads(geometry) if geometry else None, approximate=bool(row["approximate"]),
            source=row["source"], notes=row["notes"] or "", version=row["version"], aliases=tuple(aliases),
        )
