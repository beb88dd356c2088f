/* mapapp admin: maps for browsing, editing (marker + Leaflet.draw shapes), live shape preview, impact preview.
   Every text from the database is set with textContent; nothing is built as HTML strings. */
(function () {
  "use strict";

  // The page says where everything is (data-* on <body>, rendered with url_for): no URL is written here.
  var body = document.body;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var dataNode = document.getElementById("admin-data");
  var data = dataNode ? JSON.parse(dataNode.textContent) : {};
  var CAUCASUS = [40.0, 46.5];

  function baseMap(elementId) {
    var element = document.getElementById(elementId);
    if (!element || !window.L) { return null; }
    var map = L.map(element, { worldCopyJump: false }).setView(CAUCASUS, 6);
    var tiles = body.getAttribute("data-tiles-url");
    var outlinesShown = false;
    // The country outlines from the gazetteer as the basemap: with no tile server (offline installs, tests),
    // or as soon as a tile fails to load (no network), as on the public maps.
    var showOutlines = function () {
      if (outlinesShown) { return; }
      outlinesShown = true;
      fetch(body.getAttribute("data-outlines-url"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (outlines) {
          if (!outlines) { return; }
          L.geoJSON(outlines, { interactive: false, style: { color: "#999", weight: 1, fillColor: "#f3efe6",
                                                              fillOpacity: 1, className: "admin-outline" } })
            .addTo(map).bringToBack();
          element.classList.add("admin-offline");
        })
        .catch(function () { /* the map works without a basemap */ });
    };
    if (tiles) {
      L.tileLayer(tiles, { attribution: body.getAttribute("data-tiles-attribution") || "", maxZoom: 18 })
        .on("tileerror", showOutlines).addTo(map);
    } else {
      showOutlines();
    }
    return map;
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    return node;
  }

  function placeLayer(place) {
    var layer = place.geometry
      ? L.geoJSON(place.geometry, { style: { color: "#b03a2e", weight: 2 } })
      : L.marker([place.lat, place.lon], { title: place.name, alt: place.name });
    var popup = el("div");
    var link = el("a", place.name, { href: place.url || "#" });
    popup.appendChild(link);
    popup.appendChild(el("div", place.feature + " · " + place.id));
    layer.bindPopup(popup);
    layer.bindTooltip(function () { return el("span", place.name); });
    return layer;
  }

  /* A page's first view is set at once (animate false), as on the public maps: a zoom animated there from the
     default view ends on a timer that a busy browser runs late, and until then a marker clicked moves under the
     pointer and a popup opened is placed for the old zoom, then jumps. */
  function fitTo(map, group, animate) {
    var bounds = group.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.2), { maxZoom: 10, animate: animate }); }
  }

  /* ---------------------------------------------------------------- search results */
  function resultsMap() {
    var map = baseMap("results-map");
    if (!map) { return; }
    var group = L.featureGroup().addTo(map);
    (data.places || []).forEach(function (place) { group.addLayer(placeLayer(place)); });
    fitTo(map, group, false);
  }

  /* ---------------------------------------------------------------- one version, read-only */
  function versionMap() {
    var map = baseMap("version-map");
    if (!map || !data.place) { return; }
    var group = L.featureGroup([placeLayer(data.place)]).addTo(map);
    fitTo(map, group, false);
  }

  /* ---------------------------------------------------------------- the editor */
  /* Leaflet.draw ignores every press until a 50 ms timer after the previous vertex has run, a guard for its
     touch path; but Leaflet 1.9 maps fire no touchstart, so that path never runs here and the guard only
     drops mouse presses: a busy browser runs input before timers, so the timer can run late and the next
     vertex is lost without a trace. Accept the next press as soon as the vertex is drawn. */
  function steadyDrawing() {
    L.Draw.Polyline.prototype._enableNewMarkers = function () { this._disableMarkers = false; };
  }

  function editor() {
    var form = document.getElementById("place-form");
    var map = baseMap("edit-map");
    if (!form || !map) { return; }
    var lat = form.elements.lat, lon = form.elements.lon, geometry = form.elements.geometry;
    var preview = document.getElementById("geometry-preview");
    var marker = null;
    var shapes = new L.FeatureGroup().addTo(map);

    function setMarker(latlng, moveInputs) {
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, title: "Location" }).addTo(map);
        marker.on("dragend", function () { setMarker(marker.getLatLng(), true); });
      } else {
        marker.setLatLng(latlng);
      }
      if (moveInputs) {
        lat.value = latlng.lat.toFixed(6);
        lon.value = L.Util.wrapNum(latlng.lng, [-180, 180], true).toFixed(6);
        scheduleImpact();
      }
    }

    function markerFromInputs() {
      var y = Number(lat.value), x = Number(lon.value);
      if (lat.value.trim() && lon.value.trim() && isFinite(y) && isFinite(x) &&
          Math.abs(y) <= 90 && Math.abs(x) <= 180) {
        setMarker(L.latLng(y, x), false);
        return true;
      }
      return false;
    }

    function shapesToText() {
      var layers = shapes.getLayers();
      if (!layers.length) { geometry.value = ""; return; }
      var geo = layers[layers.length - 1].toGeoJSON();
      geometry.value = JSON.stringify(geo.type === "Feature" ? geo.geometry : geo);
      preview.textContent = "Shape: " + (geo.geometry || geo).type + " (drawn on the map).";
      scheduleImpact();
    }

    function textToShapes(origin) {
      shapes.clearLayers();
      var text = geometry.value.trim();
      if (!text) { preview.textContent = "No shape: the place is a point."; return; }
      var parsed;
      try { parsed = JSON.parse(text); } catch (err) {
        preview.textContent = "Not valid JSON yet: " + err.message;
        return;
      }
      try {
        L.geoJSON(parsed).eachLayer(function (layer) { shapes.addLayer(layer); });
        preview.textContent = origin === "saved"
          ? "Shape: " + String(parsed.type) + " (saved; draw on the map or paste GeoJSON to change it)."
          : "Preview of the pasted " + String(parsed.type) + " (checked when you save).";
        fitTo(map, shapes, origin !== "saved");
      } catch (err) {
        preview.textContent = "Cannot draw this GeoJSON: " + err.message;
      }
    }

    steadyDrawing();
    map.addControl(new L.Control.Draw({
      edit: { featureGroup: shapes },
      draw: { marker: false, circle: false, circlemarker: false, rectangle: true,
              polygon: { allowIntersection: false, showArea: false }, polyline: true }
    }));
    map.on(L.Draw.Event.CREATED, function (event) {
      shapes.clearLayers();  // one shape per place
      shapes.addLayer(event.layer);
      shapesToText();
    });
    map.on(L.Draw.Event.EDITED, shapesToText);
    map.on(L.Draw.Event.DELETED, shapesToText);
    var drawing = false;
    map.on(L.Draw.Event.DRAWSTART, function () { drawing = true; });
    map.on(L.Draw.Event.DRAWSTOP, function () { drawing = false; });
    map.on("click", function (event) { if (!drawing) { setMarker(event.latlng, true); } });

    lat.addEventListener("change", function () { markerFromInputs(); scheduleImpact(); });
    lon.addEventListener("change", function () { markerFromInputs(); scheduleImpact(); });
    geometry.addEventListener("input", function () { textToShapes("pasted"); scheduleImpact(); });
    ["name", "aliases", "feature", "country_code", "population", "notes"].forEach(function (name) {
      form.elements[name].addEventListener("change", scheduleImpact);
    });

    textToShapes("saved");
    if (markerFromInputs()) {
      if (shapes.getLayers().length) { fitTo(map, L.featureGroup([marker].concat(shapes.getLayers())), false); }
      else { map.setView(marker.getLatLng(), 9, { animate: false }); }
    }

    /* -------------------------------------------------------------- impact preview */
    var impactOut = document.getElementById("impact");
    var timer = null;
    function scheduleImpact() {
      clearTimeout(timer);
      timer = setTimeout(checkImpact, 600);
    }
    function formObject() {
      var object = {};
      ["id", "name", "aliases", "feature", "country_code", "population", "notes", "lat", "lon", "geometry"]
        .forEach(function (name) { if (form.elements[name]) { object[name] = form.elements[name].value; } });
      object.place_id = form.getAttribute("data-place-id") || null;
      return object;
    }
    function checkImpact() { clearTimeout(timer); showImpact(formObject(), impactOut); }  // supersedes a pending one
    document.getElementById("impact-button").addEventListener("click", checkImpact);
    var deleteButton = document.getElementById("delete-impact-button");
    if (deleteButton) {
      deleteButton.addEventListener("click", function () {
        showImpact({ place_id: form.getAttribute("data-place-id"), "delete": true },
                   document.getElementById("delete-impact"));
      });
    }
  }

  /* ---------------------------------------------------------------- impact preview (writes nothing) */
  function showImpact(proposal, out) {
    var asked = out.impactAsked = (out.impactAsked || 0) + 1;  // a slower, older answer must not overwrite it
    out.textContent = "Checking…";
    fetch(body.getAttribute("data-impact-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(proposal)
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (asked !== out.impactAsked) { return; }
      if (result.ok) {
        out.textContent = result.body.mentions + " mention(s) in " + result.body.articles +
          " article(s) would resolve differently.";
      } else {
        var errors = result.body.errors || {};
        var text = Object.keys(errors).map(function (key) { return key + ": " + errors[key]; }).join("; ");
        out.textContent = "Not saved yet: " + (text || result.body.error);
      }
    }).catch(function (err) {
      if (asked === out.impactAsked) { out.textContent = "Could not check the impact: " + err.message; }
    });
  }

  resultsMap();
  versionMap();
  editor();
})();
