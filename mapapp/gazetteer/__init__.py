"""The local gazetteer (owner: gazetteer work). Placeholder: see place.py and names.py for the shared pieces.

Contract other modules rely on:
- `Gazetteer(database_path)` is a `geopy.geocoders.base.Geocoder`: `geocode(query, exactly_one=True)` and
  `reverse((lat, lon))` return `geopy.location.Location` with the record (Place.to_record()) in `.raw`.
- `Gazetteer.get(place_id) -> Place` (raises mapapp.errors.NotFound), `Gazetteer.candidates(key) -> list[Place]`
  for a normalise_name() key.
- `open_gazetteer(data_dir, build_if_missing=True) -> Gazetteer` builds a missing gazetteer (progress on stderr).
"""
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import Place

__all__ = ["Place", "normalise_name"]
