/* mapapp's data layer: the places of a GeoJSON FeatureCollection (fetched from the API, or inline in an exported
 * file) on a Leaflet map, filtered, drawn as pins and shapes, with their popups; and the start-up of a map. */
(function (mapapp) {
  'use strict';

  var util = mapapp.util;
  var el = util.el, safeHref = util.safeHref, list = util.list, highlighted = util.highlighted,
    dateText = util.dateText;
  var UNKNOWN_SOURCE = util.UNKNOWN_SOURCE, announce = util.announce, featureLabel = util.featureLabel,
    styleFor = util.styleFor, fetchJson = util.fetchJson;

  function DataLayer(map, opts) {
    this.map = map;
    this.opts = opts;
    this.links = opts.links || {mode: 'server', base: ''};
    this.state = Object.assign({source: [], from: '', to: '', feature: [], article: [], sel: '', undated: false},
                               opts.state || {});
    ['source', 'feature', 'article'].forEach(function (key) { this.state[key] = list(this.state[key]); }, this);
    this.cluster = L.markerClusterGroup({showCoverageOnHover: false, chunkedLoading: true, maxClusterRadius: 50});
    // Shapes on one canvas: hundreds of detailed regions draw far faster there than as SVG paths.
    this.renderer = L.canvas({padding: 0.5});
    this.regions = L.featureGroup();
    this.regions.addTo(map);
    this.cluster.addTo(map);
    this.loaded = [];      // features after source/date filters
    this.hiddenUndated = 0;  // articles without a date that the date range leaves out
    this.visible = [];     // features after the layer toggles too
    this.layers = {};      // place id -> Leaflet layer
    this.handlers = [];
    this.icon = L.icon({
      iconUrl: opts.icons.icon, iconRetinaUrl: opts.icons.icon2x, shadowUrl: opts.icons.shadow,
      iconSize: [25, 41], iconAnchor: [12, 41], popupAnchor: [1, -34], shadowSize: [41, 41]
    });
    if (map.attributionControl && opts.attribution) { map.attributionControl.addAttribution(opts.attribution); }
    // Fetched shapes come simplified for the map's zoom (the API's zoom): `detail` is the level loaded.
    this.detail = null;
    this.wanted = null;     // the level of the request in flight
    this.reloading = '';    // 'load' while a filter change is in flight, 'detail' while only a zoom-in is
    // The first view's data is requested at once (the page may also preload this exact URL), not after set-up.
    this.firstRequest = opts.dataUrl ? fetchJson(opts.initialUrl || this.dataRequestUrl(opts.detailZoom)) : null;
    this.loads = 0;
    if (opts.dataUrl) { map.on('zoomend', function () { this.ensureDetail(); }, this); }
  }

  // The detail a map at `zoom` asks for: the even level of its pair, as mapapp.maps.features.detail_zoom.
  DataLayer.prototype.detailFor = function (zoom) {
    return Math.min(this.opts.fullDetailZoom, Math.max(0, 2 * Math.floor(zoom / 2)));
  };

  // After a zoom-in past what is loaded: the same places again with finer shapes. A pan, a zoom-out or a
  // zoom within the pair asks nothing.
  DataLayer.prototype.ensureDetail = function () {
    if (this.detail === null) { return; }  // nothing loaded yet: the first load checks when it ends
    var wanted = this.detailFor(this.map.getZoom());
    var have = this.wanted !== null ? this.wanted : this.detail;
    if (wanted > have) { this.load('detail'); }
  };

  // The view's fixed filters and the current source/date filters: what the server is asked for.
  DataLayer.prototype.filterParams = function () {
    var params = new URLSearchParams(), s = this.state;
    var fixed = this.opts.fixedParams || {};
    Object.keys(fixed).forEach(function (key) { list(fixed[key]).forEach(function (v) { params.append(key, v); }); });
    s.source.forEach(function (v) { params.append('source', v); });
    if (s.from) { params.set('from', s.from); }
    if (s.to) { params.set('to', s.to); }
    if (s.undated && (s.from || s.to)) { params.set('undated', '1'); }
    return params;
  };

  // The API URL of the current filters, with the shapes at the detail of `detail` (default: the map's zoom).
  DataLayer.prototype.dataRequestUrl = function (detail) {
    var params = this.filterParams();
    params.set('zoom', String(detail === undefined || detail === null ? this.detailFor(this.map.getZoom()) : detail));
    var query = params.toString();
    return this.opts.dataUrl + (query ? '?' + query : '');
  };

  DataLayer.prototype.onChange = function (handler) { this.handlers.push(handler); };

  DataLayer.prototype._changed = function (why) {
    var self = this;
    this.handlers.forEach(function (handler) { handler(self, why); });
  };

  // Source and date filters: asked of the server when there is one, else applied to the inline data.
  // load('detail') asks for the same filters at the current zoom's detail.
  DataLayer.prototype.load = function (why) {
    var self = this;
    var done = function (features, hiddenUndated) {
      self.loaded = features;
      self.hiddenUndated = hiddenUndated || 0;
      self.redraw('load');
      return self;
    };
    if (this.opts.dataUrl) {
      var first = this.firstRequest;
      var detail = first ? this.opts.detailZoom : this.detailFor(this.map.getZoom());
      var request = first || fetchJson(this.dataRequestUrl(detail));
      this.firstRequest = null;
      // A filter change in flight stays one, even when a zoom-in replaces its request.
      this.reloading = why === 'detail' && this.reloading !== 'load' ? 'detail' : 'load';
      this.wanted = detail;
      // Only the latest request draws: a slow answer to an older filter must not replace a newer one.
      var number = ++this.loads;
      if (this.reloading === 'load') { announce(this.opts, 'Loading places…'); }
      return request
        .then(function (body) {
          if (number !== self.loads) { return self; }
          var reason = self.reloading;
          self.detail = detail;
          self.wanted = null;
          self.reloading = '';
          var features = body.features || [];
          if (reason !== 'detail' || !self._refine(features)) { done(features, body.hidden_undated); }
          self.ensureDetail();  // the map may have zoomed in (or been positioned) meanwhile
          return self;
        })
        .catch(function (error) {
          if (number === self.loads) { self.wanted = null; self.reloading = ''; }
          announce(self.opts, 'Could not load the places: ' + error.message);
          throw error;
        });
    }
    return Promise.resolve(done(this._filterInline(), this._hiddenUndatedInline()));
  };

  DataLayer.prototype._mentionPasses = function (m) {
    var s = this.state;
    if (s.source.length && s.source.indexOf(m.source ? String(m.source) : UNKNOWN_SOURCE) < 0) { return false; }
    var day = dateText(m.published);
    if (!day && s.undated) { return true; }
    if (s.from && (!day || day < s.from)) { return false; }
    if (s.to && (!day || day > s.to)) { return false; }
    return true;
  };

  // Like hidden_undated on the server: articles with no date that pass the other filters but not the range.
  DataLayer.prototype._hiddenUndatedInline = function () {
    var s = this.state;
    if (s.undated || !(s.from || s.to)) { return 0; }
    var seen = {};
    ((this.opts.data && this.opts.data.features) || []).forEach(function (f) {
      (f.properties.mentions || []).forEach(function (m) {
        if (dateText(m.published)) { return; }
        if (s.source.length && s.source.indexOf(m.source ? String(m.source) : UNKNOWN_SOURCE) < 0) { return; }
        seen[String(m.article_id)] = true;
      });
    });
    return Object.keys(seen).length;
  };

  DataLayer.prototype._filterInline = function () {
    var self = this;
    var s = this.state;
    var filtering = s.source.length || s.from || s.to;
    var features = (this.opts.data && this.opts.data.features) || [];
    if (!filtering) { return features; }
    return features.map(function (f) {
      var kept = (f.properties.mentions || []).filter(function (m) { return self._mentionPasses(m); });
      if (!kept.length) { return null; }
      return {type: 'Feature', id: f.id, geometry: f.geometry,
              properties: Object.assign({}, f.properties, {mentions: kept, mention_count: kept.length})};
    }).filter(Boolean);
  };

  // Layer toggles (feature type, article) act on what is loaded, without asking the server again.
  DataLayer.prototype._isVisible = function (f) {
    var s = this.state;
    if (s.feature.length && s.feature.indexOf(String(f.properties.feature)) < 0) { return false; }
    if (s.article.length) {
      var mentions = f.properties.mentions || [];
      return mentions.some(function (m) { return s.article.indexOf(String(m.article_id)) >= 0; });
    }
    return true;
  };

  DataLayer.prototype._layerFor = function (f) {
    var self = this;
    var p = f.properties;
    var geometry = f.geometry || {type: 'Point', coordinates: [0, 0]};
    var layer;
    if (geometry.type === 'Point') {
      var latlng = L.latLng(geometry.coordinates[1], geometry.coordinates[0]);
      if (p.feature === 'country' || p.feature === 'continent') {
        // A country without a shape: an outline around it, not a city-precise pin.
        layer = L.circle(latlng, Object.assign({radius: 120000, renderer: this.renderer}, styleFor(f)));
      } else {
        layer = L.marker(latlng, {icon: this.icon, title: p.name, alt: p.name, keyboard: true});
      }
    } else {
      layer = L.geoJSON(geometry, {renderer: this.renderer, style: function () { return styleFor(f); }});
    }
    layer.bindPopup(function () { return self.popup(f); }, popupSize(this.map, {autoPanPadding: [10, 10]}));
    // Sized to the map each time it opens: a phone (or a rotated one) has less room than the default.
    layer.on('click', function () { var popup = layer.getPopup(); if (popup) { popupSize(self.map, popup.options); } });
    layer.on('popupopen', function () { self.state.sel = String(f.id); self._changed('select'); });
    layer.on('popupclose', function () {
      if (self.state.sel === String(f.id)) { self.state.sel = ''; self._changed('select'); }
    });
    layer.feature = f;
    return layer;
  };

  // The same places with finer shapes: each shape's outline is replaced where it is, so pins, clusters and an
  // open popup stay as they are. False (nothing changed) when the places are not those drawn.
  DataLayer.prototype._refine = function (features) {
    var loaded = {};
    this.loaded.forEach(function (f) { loaded[String(f.id)] = true; });
    if (features.length !== this.loaded.length ||
        !features.every(function (f) { return loaded[String(f.id)]; })) { return false; }
    var layers = this.layers;
    features.forEach(function (f) {
      var layer = layers[String(f.id)];
      if (!(layer instanceof L.GeoJSON)) { return; }  // pins and circles have no shape to refine
      layer.clearLayers();
      layer.addData(f.geometry);
      layer.feature = f;
    });
    var fresh = {};
    features.forEach(function (f) { fresh[String(f.id)] = f; });
    this.loaded = this.loaded.map(function (f) { return fresh[String(f.id)]; });
    this.visible = this.visible.map(function (f) { return fresh[String(f.id)]; });
    this._changed('detail');
    return true;
  };

  // Popup width and height limits that keep it, its tip and its close button inside the map.
  function popupSize(map, options) {
    var size = map.getSize();
    options.maxWidth = Math.max(160, Math.min(360, size.x - 70));
    options.minWidth = Math.min(220, options.maxWidth);
    options.maxHeight = Math.max(160, size.y - 90);
    return options;
  }

  DataLayer.prototype.redraw = function (why) {
    var self = this;
    this.cluster.clearLayers();
    this.regions.clearLayers();
    this.layers = {};
    this.visible = this.loaded.filter(function (f) { return self._isVisible(f); });
    var markers = [], shapes = [];
    this.visible.forEach(function (f) {
      var layer = self._layerFor(f);
      self.layers[String(f.id)] = layer;
      if (layer instanceof L.Marker) { markers.push(layer); } else { shapes.push(layer); }
    });
    // The first view is set before anything is on the map, so nothing is projected and drawn twice.
    if (this.positionOnDraw) {
      var position = this.positionOnDraw;
      this.positionOnDraw = null;
      position();
    }
    // Largest first: the canvas gives a click to the shape drawn last, so the smallest shape under the
    // pointer (a region inside its country) opens, and small shapes stay visible on top of large ones.
    shapes.sort(function (a, b) { return layerArea(b) - layerArea(a); });
    shapes.forEach(function (layer) { self.regions.addLayer(layer); });
    this.cluster.addLayers(markers);
    announce(this.opts, this.visible.length + (this.visible.length === 1 ? ' place shown' : ' places shown'));
    this._changed(why || 'redraw');
  };

  // What "fit to data" frames: pins and local shapes; whole countries only when there is nothing else,
  // since one large country (Russia crosses the antimeridian) would zoom the map out to the whole world.
  var BROAD = {country: true, continent: true};
  // Works before the layers are on the map (a circle's own getBounds needs the map).
  function layerBounds(layer) {
    if (layer instanceof L.Circle) { return layer.getLatLng().toBounds(2 * layer.getRadius()); }
    if (layer instanceof L.Marker) { return L.latLngBounds([layer.getLatLng()]); }
    return layer.getBounds();
  }

  // Planar area in square degrees, scaled by latitude (enough to order nested shapes); 0 for lines.
  function ringArea(ring) {
    var sum = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      sum += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
    }
    return Math.abs(sum / 2) * Math.cos((ring[0] ? ring[0][1] : 0) * Math.PI / 180);
  }
  function geometryArea(geometry) {
    if (!geometry) { return 0; }
    if (geometry.type === 'Polygon') {
      return geometry.coordinates.reduce(function (total, ring, i) {
        return total + (i === 0 ? 1 : -1) * ringArea(ring);
      }, 0);
    }
    if (geometry.type === 'MultiPolygon') {
      return geometry.coordinates.reduce(function (total, polygon) {
        return total + geometryArea({type: 'Polygon', coordinates: polygon});
      }, 0);
    }
    if (geometry.type === 'GeometryCollection') {
      return (geometry.geometries || []).reduce(function (total, g) { return total + geometryArea(g); }, 0);
    }
    return 0;
  }
  function layerArea(layer) {
    if (layer instanceof L.Circle) {
      var degrees = layer.getRadius() / 111320;
      return Math.PI * degrees * degrees;
    }
    return geometryArea(layer.feature && layer.feature.geometry);
  }

  DataLayer.prototype.bounds = function () {
    var local = L.latLngBounds([]), broad = L.latLngBounds([]);
    var layers = this.layers;
    Object.keys(layers).forEach(function (id) {
      var layer = layers[id];
      var target = !(layer instanceof L.Marker) && BROAD[layer.feature.properties.feature] ? broad : local;
      target.extend(layerBounds(layer));
    });
    return local.isValid() ? local : broad;
  };

  DataLayer.prototype.fit = function (animate) {
    var bounds = this.bounds();
    if (bounds.isValid()) { this.map.fitBounds(bounds, {padding: [24, 24], maxZoom: 9, animate: animate !== false}); }
  };

  // Pan to a place and open its popup (markers inside a cluster are first uncovered).
  DataLayer.prototype.select = function (placeId) {
    var layer = this.layers[String(placeId)];
    if (!layer) { return false; }
    var map = this.map;
    map.closePopup();
    if (layer.getPopup()) { popupSize(map, layer.getPopup().options); }
    if (layer instanceof L.Marker) {
      this.cluster.zoomToShowLayer(layer, function () { layer.openPopup(); });
    } else {
      var bounds = layer.getBounds();
      // Not animated: the popup pans itself into the map only once the map has stopped moving.
      map.fitBounds(bounds, {padding: [24, 24], maxZoom: 8, animate: false});
      layer.openPopup(bounds.getCenter());
    }
    // Chosen from the list below the map on a narrow screen: bring the map back into view.
    var box = map.getContainer().getBoundingClientRect();
    if ((box.top < 0 || box.bottom > window.innerHeight) && map.getContainer().scrollIntoView) {
      map.getContainer().scrollIntoView({block: 'nearest'});
    }
    return true;
  };

  DataLayer.prototype.find = function (query) {
    var q = String(query || '').trim().toLocaleLowerCase();
    if (!q) { return null; }
    var exact = null, prefix = null, inside = null;
    this.visible.forEach(function (f) {
      var name = String(f.properties.name || '').toLocaleLowerCase();
      if (name === q && !exact) { exact = f; }
      else if (name.indexOf(q) === 0 && !prefix) { prefix = f; }
      else if (name.indexOf(q) > 0 && !inside) { inside = f; }
    });
    return exact || prefix || inside;
  };

  DataLayer.prototype.articleHref = function (m, placeId) {
    if (this.links.mode === 'reader') { return '#article-' + encodeURIComponent(m.article_id); }
    var href = (this.links.base || '') + '/articles/' + encodeURIComponent(m.article_id) +
      '?place=' + encodeURIComponent(placeId);
    var mentionId = m.mention_id !== undefined ? m.mention_id : m.id;
    if (mentionId !== undefined && mentionId !== null) { href += '#m-' + encodeURIComponent(mentionId); }
    return href;
  };

  DataLayer.prototype._link = function (a) {
    if (this.opts.linkTarget) { a.target = this.opts.linkTarget; a.rel = 'noopener'; }
    return a;
  };

  // The popup: the place's name, then each article that names it, with the sentence and the name marked.
  DataLayer.prototype.popup = function (f) {
    var self = this;
    var p = f.properties;
    var box = el('div', 'mapapp-popup');
    box.appendChild(el('h2', 'mapapp-popup-name', p.name));
    var country = p.feature === 'country' ? '' : (p.country || p.country_code || '');
    var kind = el('p', 'mapapp-popup-kind', featureLabel(p) + (country ? ' · ' + country : '') +
      (p.approximate ? ' · approximate shape' : ''));
    box.appendChild(kind);
    if (this.links.mode === 'server') {
      var placeLink = this._link(el('a', 'mapapp-place-link', 'About this place'));
      placeLink.href = (this.links.base || '') + '/places/' + encodeURIComponent(f.id);
      box.appendChild(placeLink);
    }
    var mentions = p.mentions || [];
    var ul = el('ul', 'mapapp-popup-mentions');
    // One entry per article (mentions arrive grouped, newest article first), each sentence quoted under it.
    var entry = null, current = null;
    mentions.forEach(function (m) {
      if (current !== m.article_id) {
        current = m.article_id;
        entry = el('li');
        var title = self._link(el('a', 'mapapp-article-link', m.title || '(untitled article)'));
        title.href = self.articleHref(m, f.id);
        if (self.links.mode === 'reader') {
          title.addEventListener('click', function (event) {
            event.preventDefault();
            mapapp.openReader(self, m.article_id, f.id);
          });
        }
        entry.appendChild(title);
        entry.quoted = {};
        entry.titleLink = title;
        var meta = [m.source, dateText(m.published)].filter(Boolean).join(' · ');
        if (meta) { entry.appendChild(el('div', 'mapapp-popup-meta', meta)); }
        var original = safeHref(m.url);
        if (original && /^https?:/i.test(original)) {
          var a = el('a', 'mapapp-original', 'Original article');
          a.href = original; a.target = '_blank'; a.rel = 'noopener noreferrer';
          entry.appendChild(a);
        }
        ul.appendChild(entry);
      }
      // A sentence is quoted once per article; the headline (often the text's first line too) is not repeated
      // under itself: the name is marked in the headline instead.
      var sentence = String(m.sentence || m.text || '').trim();
      if (entry.quoted[sentence]) { return; }
      entry.quoted[sentence] = true;
      var offset = String(m.sentence || m.text || '').indexOf(sentence);
      if (sentence && sentence === String(m.title || '').trim()) {
        if (!entry.titleMarked) {
          entry.titleMarked = true;
          entry.titleLink.textContent = '';
          highlighted(entry.titleLink, sentence, m.start - offset, m.end - offset);
        }
        return;
      }
      entry.appendChild(highlighted(el('blockquote', 'mapapp-sentence'), m.sentence || m.text, m.start, m.end));
    });
    box.appendChild(ul);
    var total = p.mention_count || mentions.length;
    if (total > mentions.length) {
      box.appendChild(el('p', 'mapapp-popup-more', (total - mentions.length) + ' more mentions'));
    }
    return box;
  };

  mapapp.dataLayer = function (map, opts) {
    var layer = new DataLayer(map, opts);
    mapapp.current = layer;
    return layer;
  };

  /* ------------------------------------------------------------------ start-up */

  // Load the data, then restore the view from the URL or fit to the data.
  mapapp.start = function (layer, view) {
    layer.positionOnDraw = function () {
      if (view && view.zoom !== undefined && view.lat !== undefined && view.lon !== undefined) {
        // Not animated: the view (and the URL that mirrors it) is final when the map reports ready.
        layer.map.setView([view.lat, view.lon], view.zoom, {animate: false});
      } else {
        layer.fit(false);
      }
    };
    return layer.load().then(function () {
      if (layer.state.sel) { layer.select(layer.state.sel); }
      // After the deferred list and control updates queued by the first draw.
      setTimeout(function () { layer.map.getContainer().setAttribute('data-ready', 'true'); }, 0);
    }).catch(function () {
      layer.map.getContainer().setAttribute('data-ready', 'error');
    }).then(function () { layer.map.fire('mapapp:started'); });
  };
}(window.mapapp));
