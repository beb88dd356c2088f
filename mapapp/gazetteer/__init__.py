"""The local gazetteer: a worldwide base from registry packages plus curated places, in SQLite.

- `build.build(db_path, progress=True)` builds it (see build.py for sources and ids);
- `Gazetteer(database_path)` reads it: a geopy geocoder (`geocode`, `reverse`) and the recogniser's name
  index (`keys`, `candidates`, `name_kinds`, `demonyms`, `get`); see store.py for the exact contract;
- `open_gazetteer(data_dir)` for commands (builds a missing gazetteer), `get_gazetteer()` inside the app;
- `place.read_place(conn, id)` / `place.read_places(conn, ids)`: the one way to read a stored place with its
  names (what each field means is in place.py), for code that holds a connection rather than a Gazetteer.
"""
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import Place
from mapapp.gazetteer.store import Gazetteer, GazetteerView, get_gazetteer, importance, open_gazetteer

__all__ = ["Gazetteer", "GazetteerView", "Place", "get_gazetteer", "importance", "normalise_name", "open_gazetteer"]
