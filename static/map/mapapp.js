/* mapapp's map behaviour: draws the places of a GeoJSON FeatureCollection on a Leaflet map and wires the
 * page's controls to it. Every piece of text from the data goes into the page with textContent or as a
 * DOM property, never as HTML. */
(function () {
  'use strict';

  var mapapp = window.mapapp = {};

  /* ------------------------------------------------------------------ small DOM helpers */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // Only web links and same-site paths become hrefs; "javascript:" and friends never do.
  function safeHref(url) {
    if (typeof url !== 'string' || !url) { return null; }
    if (/^(https?:)?\/\//i.test(url) || /^[\/#?]/.test(url)) { return url; }
    return null;
  }

  function byId(id) { return id ? document.getElementById(id) : null; }

  function list(value) {
    if (value === undefined || value === null || value === '') { return []; }
    return (Array.isArray(value) ? value : [value]).map(String);
  }

  // Text, with the code points [start, end) wrapped in <mark>: Python offsets count code points, not UTF-16 units.
  function highlighted(container, text, start, end, markAttrs) {
    var chars = Array.from(String(text || ''));
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= chars.length)) {
      container.appendChild(document.createTextNode(chars.join('')));
      return container;
    }
    container.appendChild(document.createTextNode(chars.slice(0, start).join('')));
    var mark = el('mark', null, chars.slice(start, end).join(''));
    if (markAttrs) { markAttrs(mark); }
    container.appendChild(mark);
    container.appendChild(document.createTextNode(chars.slice(end).join('')));
    return container;
  }
  mapapp.highlighted = highlighted;

  function dateText(value) { return value ? String(value).slice(0, 10) : ''; }

  // Reserved filter values (mapapp.mapview): articles with no source, and "no source chosen" (matches nothing).
  var UNKNOWN_SOURCE = '(unknown)', NONE = '(none)';
  function sourceLabel(value) { return value === UNKNOWN_SOURCE ? 'Unknown source' : value; }

  function announce(opts, message) {
    var live = byId(opts.ids && opts.ids.status);
    if (live) { live.textContent = message; }
  }

  /* ------------------------------------------------------------------ styles by feature type */

  var REGION = {color: '#e6550d', weight: 2, fillOpacity: 0.15};
  var WATER = {color: '#08519c', weight: 1, fillColor: '#6baed6', fillOpacity: 0.5};
  var ROUTE = {color: '#d7301f', weight: 5, opacity: 0.85, dashArray: '10 6', fill: false};
  var STYLES = {
    continent: {color: '#6a3d9a', weight: 1, fillOpacity: 0.02, dashArray: '2 6'},
    country: {color: '#6a3d9a', weight: 2, fillOpacity: 0.04, dashArray: '6 4'},
    admin1: {color: '#1f78b4', weight: 2, fillOpacity: 0.12},
    province: {color: '#1f78b4', weight: 2, fillOpacity: 0.12},
    admin2: {color: '#33a02c', weight: 2, fillOpacity: 0.15},
    district: {color: '#33a02c', weight: 2, fillOpacity: 0.15},
    region: REGION, water: WATER, lake: WATER, route: ROUTE, corridor: ROUTE
  };
  var DEFAULT_STYLE = {color: '#b15928', weight: 2, fillOpacity: 0.15};

  // The feature type in plain words (the server sends feature_label; codes never reach the reader).
  var LABELS = {admin1: 'province or state', admin2: 'county or district'};
  function featureLabel(p) { return p.feature_label || LABELS[p.feature] || p.feature || 'place'; }

  function styleFor(feature) {
    var base = STYLES[feature.properties.feature] || DEFAULT_STYLE;
    var type = feature.geometry && feature.geometry.type;
    var style = Object.assign({}, base);
    if (type === 'LineString' || type === 'MultiLineString') { style.fill = false; style.weight = Math.max(style.weight, 4); }
    if (feature.properties.approximate) { style.dashArray = style.dashArray || '4 4'; }
    return style;
  }

  /* ------------------------------------------------------------------ the data layer */

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
    // The first view's data is requested at once (the page may also preload this exact URL), not after set-up.
    this.firstRequest = opts.dataUrl ? fetchJson(opts.initialUrl || this.dataRequestUrl()) : null;
    this.loads = 0;
  }

  function fetchJson(url) {
    // No custom headers: the request must match a <link rel="preload" as="fetch" crossorigin> of the page.
    return fetch(url, {credentials: 'same-origin'}).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || ('HTTP ' + response.status)); }
        return body;
      });
    });
  }

  // The API URL of the current source/date filters plus the view's fixed filters.
  DataLayer.prototype.dataRequestUrl = function () {
    var params = new URLSearchParams();
    var fixed = this.opts.fixedParams || {};
    Object.keys(fixed).forEach(function (key) { list(fixed[key]).forEach(function (v) { params.append(key, v); }); });
    this.state.source.forEach(function (v) { params.append('source', v); });
    if (this.state.from) { params.set('from', this.state.from); }
    if (this.state.to) { params.set('to', this.state.to); }
    if (this.state.undated && (this.state.from || this.state.to)) { params.set('undated', '1'); }
    return this.opts.dataUrl + (params.toString() ? '?' + params.toString() : '');
  };

  DataLayer.prototype.onChange = function (handler) { this.handlers.push(handler); };

  DataLayer.prototype._changed = function (why) {
    var self = this;
    this.handlers.forEach(function (handler) { handler(self, why); });
  };

  // Source and date filters: asked of the server when there is one, else applied to the inline data.
  DataLayer.prototype.load = function () {
    var self = this;
    var done = function (features, hiddenUndated) {
      self.loaded = features;
      self.hiddenUndated = hiddenUndated || 0;
      self.redraw('load');
      return self;
    };
    if (this.opts.dataUrl) {
      var request = this.firstRequest || fetchJson(this.dataRequestUrl());
      this.firstRequest = null;
      // Only the latest request draws: a slow answer to an older filter must not replace a newer one.
      var number = ++this.loads;
      announce(this.opts, 'Loading places…');
      return request
        .then(function (body) {
          return number === self.loads ? done(body.features || [], body.hidden_undated) : self;
        })
        .catch(function (error) { announce(self.opts, 'Could not load the places: ' + error.message); throw error; });
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

  /* ------------------------------------------------------------------ offline basemap */

  // Country outlines under everything else: at once when there are no tiles, else when a tile fails.
  mapapp.outlineBasemap = function (map, tiles, opts) {
    var shown = false;
    map.createPane('mapapp-outlines');
    map.getPane('mapapp-outlines').style.zIndex = 250;
    function show() {
      if (shown) { return; }
      shown = true;
      var draw = function (data) {
        // A canvas: hundreds of static outlines draw far faster there than as SVG elements.
        mapapp.outlines = L.geoJSON(data, {pane: 'mapapp-outlines', interactive: false,
          renderer: L.canvas({pane: 'mapapp-outlines'}),
          style: {color: '#8c8c8c', weight: 1, fillColor: '#f2efe9', fillOpacity: 1}}).addTo(map);
        map.getContainer().classList.add('mapapp-offline');
      };
      if (opts.data) { draw(opts.data); }
      else if (opts.url) { fetch(opts.url).then(function (r) { return r.json(); }).then(draw).catch(function () {}); }
    }
    // Without tiles, after the places are drawn: the backdrop must not hold up what the reader came for.
    if (tiles) { tiles.on('tileerror', show); } else { map.once('mapapp:started', function () { setTimeout(show, 0); }); }
  };

  /* ------------------------------------------------------------------ controls bound to the page */

  function facetsFrom(layer) {
    var facets = layer.opts.facets || {};
    var sources = {}, features = {}, dates = [];
    ((layer.opts.data && layer.opts.data.features) || layer.loaded).forEach(function (f) {
      features[f.properties.feature] = true;
      (f.properties.mentions || []).forEach(function (m) {
        sources[m.source ? m.source : UNKNOWN_SOURCE] = true;
        if (m.published) { dates.push(dateText(m.published)); }
      });
    });
    dates.sort();
    return {
      sources: facets.sources || Object.keys(sources).sort(function (a, b) {
        return (a === UNKNOWN_SOURCE) - (b === UNKNOWN_SOURCE) || (a < b ? -1 : a > b ? 1 : 0);
      }),
      features: facets.features || Object.keys(features).sort(),
      min_date: facets.min_date || dates[0] || '',
      max_date: facets.max_date || dates[dates.length - 1] || ''
    };
  }

  function checkboxList(container, items, checked, onToggle) {
    container.textContent = '';
    items.forEach(function (item) {
      var label = el('label', 'mapapp-check');
      var box = document.createElement('input');
      box.type = 'checkbox';
      box.value = item.value;
      box.checked = checked(item.value);
      box.addEventListener('change', function () { onToggle(); });
      label.appendChild(box);
      label.appendChild(el('span', null, item.label));
      container.appendChild(label);
    });
  }

  function checkedValues(container) {
    return Array.prototype.filter.call(container.querySelectorAll('input[type=checkbox]'), function (b) {
      return b.checked;
    }).map(function (b) { return b.value; });
  }

  // Every box checked: no filter ([]); none checked: NONE, which matches nothing (an empty map, as asked).
  function allOrSome(container) {
    var boxes = container.querySelectorAll('input[type=checkbox]');
    var values = checkedValues(container);
    if (values.length === boxes.length) { return []; }
    return values.length ? values : [NONE];
  }

  var DAY = 86400000;
  function dayIndex(date, min) { return Math.round((Date.parse(date) - Date.parse(min)) / DAY); }
  function dayAt(index, min) { return new Date(Date.parse(min) + index * DAY).toISOString().slice(0, 10); }

  // Run `fn` once after the current task (so the map paints first); repeated calls before then coalesce.
  function deferred(fn) {
    var pending = false;
    return function () {
      if (pending) { return; }
      pending = true;
      setTimeout(function () { pending = false; fn(); }, 0);
    };
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // Source checkboxes and the date range (two sliders and two date fields), applied without a reload.
  mapapp.filterControl = function (layer) {
    var ids = layer.opts.ids;
    var facets = facetsFrom(layer);
    var sources = byId(ids.sources);
    var reload = debounce(function () { layer.load().catch(function () {}); }, 250);
    if (sources) {
      var items = facets.sources.map(function (s) { return {value: s, label: sourceLabel(s)}; });
      checkboxList(sources, items, function (v) {
        return !layer.state.source.length || layer.state.source.indexOf(v) >= 0;
      }, function () { layer.state.source = allOrSome(sources); reload(); });
      if (!items.length) { sources.appendChild(el('p', 'mapapp-empty', 'No sources recorded.')); }
    }
    var from = byId(ids.from), to = byId(ids.to), fromRange = byId(ids.fromRange), toRange = byId(ids.toRange);
    if (!from || !to) { return; }
    var min = facets.min_date, max = facets.max_date;
    from.value = layer.state.from || '';
    to.value = layer.state.to || '';
    if (min && max) {
      [from, to].forEach(function (input) { input.min = min; input.max = max; });
      var span = Math.max(dayIndex(max, min), 0);
      [fromRange, toRange].forEach(function (range) {
        if (!range) { return; }
        range.min = 0; range.max = span; range.step = 1; range.disabled = span === 0;
      });
      if (fromRange) { fromRange.value = layer.state.from ? dayIndex(layer.state.from, min) : 0; }
      if (toRange) { toRange.value = layer.state.to ? dayIndex(layer.state.to, min) : span; }
      var fromSlider = function () {
        if (+fromRange.value > +toRange.value) { fromRange.value = toRange.value; }
        from.value = +fromRange.value === 0 ? '' : dayAt(+fromRange.value, min);
        fromRange.setAttribute('aria-valuetext', from.value || min);
        layer.state.from = from.value; reload();
      };
      var toSlider = function () {
        if (+toRange.value < +fromRange.value) { toRange.value = fromRange.value; }
        to.value = +toRange.value === span ? '' : dayAt(+toRange.value, min);
        toRange.setAttribute('aria-valuetext', to.value || max);
        layer.state.to = to.value; reload();
      };
      if (fromRange && toRange) {
        fromRange.addEventListener('input', fromSlider);
        toRange.addEventListener('input', toSlider);
      }
    } else {
      [fromRange, toRange].forEach(function (range) { if (range) { range.disabled = true; } });
    }
    var fromField = function () {
      layer.state.from = from.value || '';
      if (fromRange && min && from.value) { fromRange.value = dayIndex(from.value, min); }
      reload();
    };
    var toField = function () {
      layer.state.to = to.value || '';
      if (toRange && min && to.value) { toRange.value = dayIndex(to.value, min); }
      reload();
    };
    from.addEventListener('change', fromField);
    to.addEventListener('change', toField);
    // A date range leaves out the articles without a date: say how many, and offer to include them.
    var undated = byId(ids.undated), undatedCount = byId(ids.undatedCount), undatedBox = byId(ids.undatedBox);
    if (undated && undatedBox) {
      undatedBox.checked = !!layer.state.undated;
      undatedBox.addEventListener('change', function () { layer.state.undated = undatedBox.checked; reload(); });
      layer.onChange(function (_layer, why) {
        if (why !== 'load') { return; }
        var ranged = !!(layer.state.from || layer.state.to), n = layer.hiddenUndated;
        undated.hidden = !(ranged && (n > 0 || layer.state.undated));
        if (undatedCount) {
          undatedCount.textContent = layer.state.undated ? 'Articles without a date are included.' :
            n + (n === 1 ? ' article without a date is' : ' articles without a date are') + ' hidden by the date range.';
        }
      });
    }
  };

  // Layers by feature type and by article: checkboxes built from what is loaded.
  mapapp.layerControl = function (layer) {
    var ids = layer.opts.ids;
    var features = byId(ids.features), articles = byId(ids.articles);
    var rebuild = function () {
      if (features) {
        var types = facetsFrom(layer).features;
        layer.loaded.forEach(function (f) {
          if (types.indexOf(f.properties.feature) < 0) { types.push(f.properties.feature); }
        });
        var labels = {};
        layer.loaded.forEach(function (f) { labels[f.properties.feature] = featureLabel(f.properties); });
        checkboxList(features, types.map(function (t) {
          return {value: t, label: labels[t] || featureLabel({feature: t})};
        }), function (v) {
          return !layer.state.feature.length || layer.state.feature.indexOf(v) >= 0;
        }, function () { layer.state.feature = allOrSome(features); layer.redraw('layers'); });
      }
      if (articles) { articlesStale = true; buildArticles(); }
    };
    // The article list can hold thousands of entries: build it only while its <details> is open.
    var articlesStale = true;
    var folder = articles && articles.closest('details');
    var buildArticles = function () {
      if (!articlesStale || (folder && !folder.open)) { return; }
      articlesStale = false;
      var seen = {}, items = [];
      layer.loaded.forEach(function (f) {
        (f.properties.mentions || []).forEach(function (m) {
          var id = String(m.article_id);
          if (seen[id]) { return; }
          seen[id] = true;
          items.push({value: id, label: (m.title || '(untitled)') + (m.published ? ' (' + dateText(m.published) + ')' : ''),
                      date: dateText(m.published)});
        });
      });
      items.sort(function (a, b) { return a.date < b.date ? 1 : a.date > b.date ? -1 : 0; });
      checkboxList(articles, items, function (v) {
        return !layer.state.article.length || layer.state.article.indexOf(v) >= 0;
      }, function () { layer.state.article = allOrSome(articles); layer.redraw('layers'); });
    };
    if (folder) { folder.addEventListener('toggle', buildArticles); }
    var later = deferred(rebuild);
    layer.onChange(function (_layer, why) { if (why === 'load') { later(); } });
    rebuild();
  };

  // The list view: the same places as the map, as buttons (for keyboards and screen readers).
  mapapp.listView = function (layer) {
    var ids = layer.opts.ids;
    var listNode = byId(ids.list), count = byId(ids.count);
    if (!listNode) { return; }
    var LIMIT = 500;
    var build = deferred(function () {
      listNode.textContent = '';
      var places = layer.visible.slice().sort(function (a, b) {
        return (b.properties.mention_count || 0) - (a.properties.mention_count || 0) ||
          String(a.properties.name).localeCompare(String(b.properties.name));
      });
      places.slice(0, LIMIT).forEach(function (f) {
        var li = el('li');
        var button = el('button', 'mapapp-list-place', f.properties.name);
        button.type = 'button';
        button.setAttribute('data-place-id', String(f.id));
        button.addEventListener('click', function () { layer.select(f.id); });
        li.appendChild(button);
        var n = f.properties.mention_count || (f.properties.mentions || []).length;
        li.appendChild(el('span', 'mapapp-list-meta', ' ' + featureLabel(f.properties) + ' · ' + n + (n === 1 ? ' mention' : ' mentions')));
        listNode.appendChild(li);
      });
      if (count) {
        count.textContent = places.length > LIMIT ? ('first ' + LIMIT + ' of ' + places.length) : String(places.length);
      }
    });
    layer.onChange(function (_layer, why) { if (why !== 'select') { build(); } });
  };

  // Place search: finds a shown place by name, pans to it and opens its popup.
  mapapp.placeSearch = function (layer) {
    var ids = layer.opts.ids;
    var form = byId(ids.form), input = byId(ids.input), options = byId(ids.options);
    if (!form || !input) { return; }
    if (options) {
      var build = deferred(function () {
        options.textContent = '';
        layer.visible.forEach(function (f) {
          var option = document.createElement('option');
          option.value = String(f.properties.name);
          options.appendChild(option);
        });
      });
      layer.onChange(function (_layer, why) { if (why !== 'select') { build(); } });
    }
    var show = function (found, matched) {
      layer.select(found.id);
      var name = String(found.properties.name);
      var alias = matched && matched.toLocaleLowerCase() !== name.toLocaleLowerCase();
      announce(layer.opts, 'Showing ' + name + (alias ? ' (matched the name “' + matched + '”)' : ''));
    };
    var nothing = function (query) { announce(layer.opts, 'No place shown on the map matches “' + query + '”.'); };
    var searches = 0;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var query = input.value.trim();
      var local = layer.find(query);
      var exact = local && String(local.properties.name).toLocaleLowerCase() === query.toLocaleLowerCase();
      if (!query || exact || !layer.opts.dataUrl) {
        if (local) { show(local, null); } else { nothing(query); }
        return;
      }
      // Every name and alias of the places: the server's q filter knows them all (the map data has one name).
      var number = ++searches;
      var params = new URLSearchParams(layer.dataRequestUrl().split('?')[1] || '');
      params.set('q', query);
      fetchJson(layer.opts.dataUrl + '?' + params.toString()).then(function (body) {
        if (number !== searches) { return; }
        var q = query.toLocaleLowerCase();
        var rank = function (f) {
          var matched = String(f.properties.matched_name || f.properties.name).toLocaleLowerCase();
          return matched === q ? 0 : matched.indexOf(q) === 0 ? 1 : 2;
        };
        var shown = (body.features || []).filter(function (f) { return layer.layers[String(f.id)]; });
        shown.sort(function (a, b) { return rank(a) - rank(b); });
        var best = shown[0];
        if (best && (!local || rank(best) < 2)) { show(layer.layers[String(best.id)].feature, best.properties.matched_name); }
        else if (local) { show(local, null); }
        else { nothing(query); }
      }).catch(function () { if (local) { show(local, null); } else { nothing(query); } });
    });
  };

  // The legend: what each colour and line style on the map means, for the kinds of place shown.
  mapapp.legendControl = function (layer) {
    var Control = L.Control.extend({
      options: {position: 'bottomright'},
      onAdd: function () {
        var box = L.DomUtil.create('details', 'mapapp-legend');
        box.id = (layer.opts.ids && layer.opts.ids.legend) || '';
        box.open = layer.map.getSize().x >= 600;
        box.appendChild(el('summary', null, 'Legend'));
        var listNode = el('ul');
        box.appendChild(listNode);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        var swatch = function (style, marker) {
          var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
          svg.setAttribute('width', '28'); svg.setAttribute('height', '14'); svg.setAttribute('aria-hidden', 'true');
          var shape = document.createElementNS('http://www.w3.org/2000/svg', marker ? 'circle' : 'rect');
          if (marker) {
            shape.setAttribute('cx', '14'); shape.setAttribute('cy', '7'); shape.setAttribute('r', '5');
            shape.setAttribute('fill', '#2a81cb');
          } else {
            shape.setAttribute('x', '2'); shape.setAttribute('y', '2'); shape.setAttribute('width', '24');
            shape.setAttribute('height', '10');
            shape.setAttribute('fill', style.fill === false ? 'none' : (style.fillColor || style.color));
            shape.setAttribute('fill-opacity', String(style.fill === false ? 0 : Math.max(style.fillOpacity || 0.2, 0.2)));
          }
          shape.setAttribute('stroke', marker ? '#fff' : style.color);
          shape.setAttribute('stroke-width', marker ? '1' : String(Math.min(style.weight || 2, 3)));
          if (!marker && style.dashArray) { shape.setAttribute('stroke-dasharray', style.dashArray); }
          svg.appendChild(shape);
          return svg;
        };
        var build = function () {
          listNode.textContent = '';
          var seen = {}, approximate = false, pins = false;
          layer.visible.forEach(function (f) {
            var p = f.properties, point = !f.geometry || f.geometry.type === 'Point';
            if (point && p.feature !== 'country' && p.feature !== 'continent') { pins = true; return; }
            if (p.approximate) { approximate = true; }
            if (!seen[p.feature]) { seen[p.feature] = f; }
          });
          var item = function (svg, text) {
            var li = el('li');
            li.appendChild(svg);
            li.appendChild(el('span', null, text));
            listNode.appendChild(li);
          };
          if (pins) { item(swatch(null, true), 'a town, village or point (numbers: several together)'); }
          Object.keys(seen).sort().forEach(function (type) {
            var f = seen[type];
            var style = Object.assign({}, STYLES[type] || DEFAULT_STYLE);
            item(swatch(style), featureLabel(f.properties));
          });
          if (approximate) { item(swatch({color: '#555', weight: 2, dashArray: '4 4', fill: false}), 'short dashes: approximate shape'); }
          box.hidden = !listNode.children.length;
        };
        layer.onChange(function (_layer, why) { if (why !== 'select') { build(); } });
        return box;
      }
    });
    new Control().addTo(layer.map);
  };

  // A "fit to data" button on the map itself.
  mapapp.fitControl = function (layer, position) {
    var Control = L.Control.extend({
      options: {position: position || 'topleft'},
      onAdd: function () {
        var bar = L.DomUtil.create('div', 'leaflet-bar mapapp-fit');
        var button = L.DomUtil.create('button', '', bar);
        button.type = 'button';
        button.textContent = '⤢';
        button.title = 'Fit the map to the places shown';
        button.setAttribute('aria-label', 'Fit the map to the places shown');
        L.DomEvent.disableClickPropagation(bar);
        L.DomEvent.on(button, 'click', function () { layer.fit(); });
        return bar;
      }
    });
    new Control().addTo(layer.map);
  };

  /* ------------------------------------------------------------------ URL state and sharing */

  function stateParams(layer) {
    var s = layer.state, params = new URLSearchParams();
    var fixed = layer.opts.fixedParams || {};
    Object.keys(fixed).forEach(function (key) { list(fixed[key]).forEach(function (v) { params.append(key, v); }); });
    s.source.forEach(function (v) { params.append('source', v); });
    if (s.from) { params.set('from', s.from); }
    if (s.to) { params.set('to', s.to); }
    if (s.undated && (s.from || s.to)) { params.set('undated', '1'); }
    s.feature.forEach(function (v) { params.append('feature', v); });
    s.article.forEach(function (v) { params.append('article', v); });
    if (s.sel) { params.set('sel', s.sel); }
    // Extensions in their own files (density.js) add their URL state here.
    (mapapp.stateExtras || []).forEach(function (extra) { extra(layer, params); });
    var center = layer.map.getCenter();
    params.set('zoom', String(layer.map.getZoom()));
    params.set('lat', center.lat.toFixed(4));
    params.set('lon', center.lng.toFixed(4));
    return params;
  }
  mapapp.stateParams = stateParams;

  // Keeps the address bar (query string, or the hash in a file) in step with filters, selection and view.
  mapapp.urlState = function (layer, where) {
    var write = function () {
      var query = stateParams(layer).toString();
      try {
        if (where === 'hash') { history.replaceState(null, '', '#' + query); }
        else { history.replaceState(null, '', location.pathname + '?' + query + location.hash); }
      } catch (error) { /* some file:// contexts refuse; the view still works */ }
    };
    layer.onChange(write);
    layer.map.on('moveend', write);
    layer.writeUrl = write;  // for extensions whose state is not the layer's (density.js)
  };

  // The width an embed may ask for: pixels or a percentage, else the default.
  function embedWidth(value) {
    var text = String(value || '').trim();
    if (/^\d{2,4}$/.test(text)) { return text; }
    if (/^\d{1,3}%$/.test(text) && parseInt(text, 10) <= 100) { return text; }
    return '100%';
  }

  function embedHeight(value) {
    var n = parseInt(value, 10);
    return isFinite(n) ? String(Math.min(Math.max(n, 150), 2000)) : '480';
  }

  // "Share / embed": the link to this view, and an iframe snippet that fits the data by default (an embed's
  // frame is not the author's window), with its size, first view and filters chosen in the dialog.
  mapapp.shareControl = function (layer, ids, embedPath) {
    var button = byId(ids.button), panel = byId(ids.panel), snippet = byId(ids.snippet), link = byId(ids.link);
    var copy = byId(ids.copy), width = byId(ids.width), height = byId(ids.height), viewBox = byId(ids.view);
    var filtersBox = byId(ids.filters), preview = byId(ids.preview);
    if (!button || !panel || !snippet) { return; }
    var embedUrl = function () {
      var all = stateParams(layer), params = new URLSearchParams();
      var withFilters = !filtersBox || filtersBox.checked, withView = viewBox && viewBox.checked;
      var fixed = layer.opts.fixedParams || {};
      all.forEach(function (value, key) {
        var isView = key === 'zoom' || key === 'lat' || key === 'lon';
        if (isView ? withView : (withFilters || fixed[key] !== undefined)) { params.append(key, value); }
      });
      var query = params.toString();
      return location.origin + embedPath + (query ? '?' + query : '');
    };
    var shownPreview = '';
    var showPreview = debounce(function () {
      var url = embedUrl();
      if (preview && !panel.hidden && url !== shownPreview) { shownPreview = url; preview.src = url; }
    }, 400);
    var fill = function () {
      var url = embedUrl();
      var w = embedWidth(width && width.value), h = embedHeight(height && height.value);
      snippet.value = '<iframe src="' + url.replace(/&/g, '&amp;').replace(/"/g, '&quot;') +
        '" width="' + w + '" height="' + h + '" style="border:0" loading="lazy" title="Map of places in the news"></iframe>';
      if (link) { link.value = location.href; }
      if (preview) { preview.style.maxWidth = /%$/.test(w) ? w : w + 'px'; }
      showPreview();
    };
    button.addEventListener('click', function () {
      var open = panel.hidden;
      panel.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      if (open) { fill(); snippet.focus(); snippet.select(); }
    });
    [width, height, viewBox, byId(ids.fit), filtersBox].forEach(function (input) {
      if (input) { input.addEventListener(input.type === 'text' || input.type === 'number' ? 'input' : 'change', fill); }
    });
    var refill = function () { if (!panel.hidden) { fill(); } };
    layer.onChange(refill);
    layer.map.on('moveend', refill);
    if (copy) {
      copy.addEventListener('click', function () {
        snippet.select();
        if (navigator.clipboard) { navigator.clipboard.writeText(snippet.value).catch(function () {}); }
        announce(layer.opts, 'Embed code copied');
      });
    }
  };

  /* ------------------------------------------------------------------ marked mentions and the reader */

  // Marks in the page text (<mark data-place-id>): click, Enter or Space selects the place on the map.
  mapapp.bindMarks = function (layer, root) {
    var container = typeof root === 'string' ? document.querySelector(root) : root;
    if (!container) { return; }
    var activate = function (mark) {
      var placeId = mark.getAttribute('data-place-id');
      if (!placeId) { return; }
      Array.prototype.forEach.call(container.querySelectorAll('mark.is-current'), function (m) {
        m.classList.remove('is-current');
      });
      mark.classList.add('is-current');
      if (!layer.select(placeId)) { announce(layer.opts, 'That place is not on the map.'); }
    };
    container.addEventListener('click', function (event) {
      var mark = event.target.closest && event.target.closest('mark[data-place-id]');
      if (mark) { activate(mark); }
    });
    container.addEventListener('keydown', function (event) {
      var mark = event.target.closest && event.target.closest('mark[data-place-id]');
      if (mark && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); activate(mark); }
    });
  };

  // The in-file reader of an exported map: an article's text with its mentions marked.
  mapapp.openReader = function (layer, articleId, placeId) {
    var reader = byId(layer.opts.ids && layer.opts.ids.reader);
    var article = layer.opts.articles && layer.opts.articles[String(articleId)];
    if (!reader || !article) { return; }
    var body = reader.querySelector('.mapapp-reader-body');
    body.textContent = '';
    body.appendChild(el('h2', 'mapapp-reader-title', article.title || '(untitled article)'));
    var meta = [article.source, dateText(article.published)].filter(Boolean).join(' · ');
    if (meta) { body.appendChild(el('p', 'mapapp-reader-meta', meta)); }
    var original = safeHref(article.url);
    if (original && /^https?:/i.test(original)) {
      var a = el('a', null, 'Original article');
      a.href = original; a.target = '_blank'; a.rel = 'noopener noreferrer';
      body.appendChild(a);
    }
    var text = el('div', 'mapapp-reader-text');
    var chars = Array.from(String(article.text || ''));
    var at = 0, focus = null;
    (article.mentions || []).slice().sort(function (x, y) { return x[0] - y[0]; }).forEach(function (m) {
      var start = m[0], end = m[1];
      if (start < at || end > chars.length || start >= end) { return; }
      text.appendChild(document.createTextNode(chars.slice(at, start).join('')));
      var mark = el('mark', null, chars.slice(start, end).join(''));
      if (m[2]) { mark.setAttribute('data-place-id', String(m[2])); mark.tabIndex = 0; }
      if (!focus && placeId !== undefined && String(m[2]) === String(placeId)) { focus = mark; mark.classList.add('is-current'); }
      text.appendChild(mark);
      at = end;
    });
    text.appendChild(document.createTextNode(chars.slice(at).join('')));
    body.appendChild(text);
    reader.hidden = false;
    if (!reader.dataset.bound) {
      reader.dataset.bound = '1';
      mapapp.bindMarks(layer, text.parentNode);
      var close = reader.querySelector('.mapapp-reader-close');
      if (close) { close.addEventListener('click', function () { reader.hidden = true; }); }
    }
    reader.focus();
    if (focus && focus.scrollIntoView) { focus.scrollIntoView({block: 'center'}); }
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
}());
