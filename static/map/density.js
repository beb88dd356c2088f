// The density view: countries or provinces shaded by the articles (or mentions) in the current filter, a
// classed legend, and a timeline that moves the map's date range a week or a month at a time.
// State in the URL: view=density, by, count, step, at (the first day of the frame shown).
(function () {
  'use strict';
  var mapapp = window.mapapp;
  // Sequential reds (ColorBrewer "Reds", 5 classes): the top class is always the darkest.
  var COLOURS = ['#fee5d9', '#fcae91', '#fb6a4a', '#de2d26', '#a50f15'];
  var LEVELS = {country: ['country', 'countries'], admin1: ['province or state', 'provinces and states']};
  var FRAME_MS = 1000;
  var DAY = 86400000;
  var ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

  function node(tag, className, text) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    if (text !== undefined && text !== null) { element.textContent = String(text); }
    return element;
  }

  function oneOf(value, allowed, fallback) { return allowed.indexOf(value) >= 0 ? value : fallback; }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  function classOf(value, breaks) {
    for (var i = 0; i < breaks.length; i++) { if (value <= breaks[i]) { return i; } }
    return breaks.length - 1;
  }

  function colourOf(index, breaks) { return COLOURS[COLOURS.length - breaks.length + index]; }

  function DensityView(layer, opts) {
    var params = new URLSearchParams(location.hash.length > 1 ? location.hash.slice(1) : location.search);
    this.layer = layer;
    this.map = layer.map;
    this.opts = opts;
    this.ids = opts.ids || {};
    this.state = {
      view: params.get('view') === 'density' ? 'density' : 'markers',
      by: oneOf(params.get('by'), ['country', 'admin1'], 'country'),
      count: oneOf(params.get('count'), ['articles', 'mentions'], 'articles'),
      step: oneOf(params.get('step'), ['week', 'month'], 'week'),
      at: ISO_DAY.test(params.get('at') || '') ? params.get('at') : ''
    };
    this.cache = {};          // request URL -> response
    this.requests = 0;
    this.timer = null;        // the playing timeline's interval
    this.savedRange = null;   // the date range before the first frame, restored by "All dates"
    this.markersStale = false;
    var self = this;
    this.group = L.geoJSON(null, {
      style: function (f) { return self._style(f); },
      onEachFeature: function (f, shape) { shape.bindPopup(function () { return self._popup(f); }); }
    });
    this.legend = this._legendControl();
    this._bindControls();
  }

  DensityView.prototype._byId = function (key) { return this.ids[key] ? document.getElementById(this.ids[key]) : null; };

  /* ---------------------------------------------------------------- requests */

  DensityView.prototype._url = function (timeline) {
    var params = new URLSearchParams(mapapp.filterQuery(this.layer));
    if (timeline) {  // the whole timeline of the other filters: its frames set the date range
      ['from', 'to', 'undated'].forEach(function (key) { params.delete(key); });
      params.set('step', this.state.step);
    }
    params.set('by', this.state.by);
    params.set('count', this.state.count);
    return (this.opts.url || '') + '?' + params.toString();
  };

  // An exported file carries the answers (mapapp.maps.density.inline_density): by level, count and step,
  // the outlines once per level.
  DensityView.prototype._inline = function (url) {
    var params = new URLSearchParams(url.split('?')[1] || ''), data = this.opts.data;
    var by = params.get('by'), answer = data.views[by + '/' + params.get('count') + '/' + (params.get('step') || '')];
    if (!answer) { return Promise.reject(new Error('this timeline is not in the file')); }
    var outlines = data.outlines[by] || {};
    return Promise.resolve(Object.assign({}, answer, {features: answer.features.map(function (f) {
      return Object.assign({}, f, {geometry: outlines[f.id]});
    })}));
  };

  DensityView.prototype._fetch = function (url) {
    var self = this;
    if (this.cache[url]) { return Promise.resolve(this.cache[url]); }
    if (this.opts.data) {
      return this._inline(url).then(function (body) { self.cache[url] = body; return body; });
    }
    return fetch(url, {credentials: 'same-origin'}).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || ('HTTP ' + response.status)); }
        self.cache[url] = body;
        return body;
      });
    });
  };

  // Fetch what the current state shows (totals, or the timeline when a frame is shown), then draw it.
  DensityView.prototype.refresh = function () {
    if (this.state.view !== 'density') { return Promise.resolve(); }
    var self = this, number = ++this.requests, container = this.map.getContainer();
    container.setAttribute('data-density', 'loading');
    return this._fetch(this._url(!!this.state.at)).then(function (data) {
      if (number !== self.requests) { return; }
      self.data = data;
      self.render();
    }).catch(function (error) {
      if (number !== self.requests) { return; }
      container.setAttribute('data-density', 'error');
      self._say('Could not load the density: ' + error.message);
    });
  };

  /* ---------------------------------------------------------------- drawing */

  DensityView.prototype._frame = function () {
    var periods = (this.data && this.data.periods) || [], at = this.state.at;
    if (!at || !periods.length) { return null; }
    for (var i = 0; i < periods.length; i++) {
      if (periods[i].start <= at && at <= periods[i].end) { return {index: i, period: periods[i]}; }
    }
    var after = periods.filter(function (p) { return p.start > at; })[0];
    var period = after || periods[periods.length - 1];
    return {index: periods.indexOf(period), period: period};
  };

  DensityView.prototype._counts = function () {
    if (this.frame) { return this.frame.period.counts; }
    var counts = {};
    ((this.data && this.data.features) || []).forEach(function (f) { counts[f.id] = f.properties.count; });
    return counts;
  };

  DensityView.prototype._breaks = function () {
    return (this.frame ? this.data.period_breaks : this.data.breaks) || [];
  };

  DensityView.prototype._style = function (f) {
    var n = this.counts[f.id] || 0, breaks = this.breaks;
    if (!n || !breaks.length) { return {color: '#888', weight: 0.5, fillOpacity: 0, className: 'density-region'}; }
    return {color: '#555', weight: 1, fillColor: colourOf(classOf(n, breaks), breaks), fillOpacity: 0.75,
            dashArray: f.properties.approximate ? '4 3' : null, className: 'density-region'};
  };

  DensityView.prototype._what = function (n) {
    return this.state.count === 'articles' ? plural(n, 'article', 'articles') : plural(n, 'mention', 'mentions');
  };

  DensityView.prototype._frameText = function () {
    if (!this.frame) { return 'All dates in the filter'; }
    var p = this.frame.period;
    return (this.state.step === 'week' ? 'Week of ' + p.start + ' to ' + p.end : 'Month ' + p.start.slice(0, 7));
  };

  DensityView.prototype._popup = function (f) {
    var box = node('div', 'density-popup');
    box.appendChild(node('strong', null, f.properties.name));
    box.appendChild(node('p', null, this._what(this.counts[f.id] || 0) + ' · ' + this._frameText()));
    if (f.properties.approximate) { box.appendChild(node('p', 'density-note', 'Approximate outline')); }
    var links = this.layer.links || {};
    if (links.mode === 'server') {  // an exported file without a server has no place pages
      var link = node('a', null, 'Place page');
      link.href = (links.base || '') + '/places/' + encodeURIComponent(f.id);
      if (this.layer.opts.linkTarget) { link.target = this.layer.opts.linkTarget; link.rel = 'noopener'; }
      box.appendChild(link);
    }
    return box;
  };

  DensityView.prototype.render = function () {
    this.frame = this._frame();
    if (this.frame) { this.state.at = this.frame.period.start; }
    this.counts = this._counts();
    this.breaks = this._breaks();
    this.group.clearLayers();
    this.group.addData((this.data && this.data.features) || []);
    this._drawLegend();
    var counted = Object.keys(this.counts).reduce(function (sum, id) { return sum + (this.counts[id] || 0); }.bind(this), 0);
    var label = this._byId('frame');
    var regions = Object.keys(this.counts).filter(function (id) { return this.counts[id] > 0; }, this).length;
    var summary = this._frameText() + ': ' + (this.frame ? this._what(counted) + ' counted in ' :
      this._what(this.data.total || 0) + ' in ') + plural(regions, LEVELS[this.state.by][0], LEVELS[this.state.by][1]) + '.';
    if (label) { label.textContent = summary; }
    var container = this.map.getContainer();
    container.setAttribute('data-density-frame', this.state.at || 'all');
    container.setAttribute('data-density', 'ready');
    this._writeUrl();
  };

  DensityView.prototype._legendControl = function () {
    var self = this;
    var Control = L.Control.extend({
      options: {position: 'bottomright'},
      onAdd: function () {
        var box = L.DomUtil.create('div', 'mapapp-legend density-legend');
        box.setAttribute('role', 'group');
        box.setAttribute('aria-label', 'Density legend');
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        self.legendBox = box;
        return box;
      }
    });
    return new Control();
  };

  DensityView.prototype._drawLegend = function () {
    var box = this.legendBox;
    if (!box) { return; }
    box.textContent = '';
    var level = LEVELS[this.state.by];
    box.appendChild(node('p', 'density-legend-title',
      (this.state.count === 'articles' ? 'Articles' : 'Mentions') + ' per ' + level[0]));
    box.appendChild(node('p', 'density-legend-frame', this._frameText()));
    var list = node('ul'), breaks = this.breaks, counts = this.counts;
    var members = breaks.map(function () { return 0; });
    Object.keys(counts).forEach(function (id) { if (counts[id] > 0) { members[classOf(counts[id], breaks)] += 1; } });
    breaks.forEach(function (upper, i) {
      var lower = i ? breaks[i - 1] + 1 : 1;
      var li = node('li');
      var swatch = node('span', 'density-swatch');
      swatch.style.background = colourOf(i, breaks);
      swatch.setAttribute('aria-hidden', 'true');
      li.appendChild(swatch);
      li.appendChild(node('span', null, (lower === upper ? String(upper) : lower + '–' + upper) + ' (' +
        plural(members[i], level[0], level[1]) + ')'));
      list.appendChild(li);
    });
    var none = node('li');
    var empty = node('span', 'density-swatch density-swatch-empty');
    empty.setAttribute('aria-hidden', 'true');
    none.appendChild(empty);
    none.appendChild(node('span', null, breaks.length ? 'none' : 'nothing counted'));
    list.appendChild(none);
    box.appendChild(list);
    if (this.data && this.data.unmapped) {
      box.appendChild(node('p', 'density-note', this._what(this.data.unmapped) + ' in regions without an outline'));
    }
    box.appendChild(node('p', 'density-note', 'Classes: quantiles' + (this.frame ? ' of every frame' : '')));
    if (this.opts.data) {
      box.appendChild(node('p', 'density-note', 'Counts of the view as exported: the timeline steps through them,' +
        ' the file\'s own filters do not change them'));
    }
  };

  /* ---------------------------------------------------------------- view switch and timeline */

  DensityView.prototype._say = function (message) {
    var status = document.getElementById(this.layer.opts.ids && this.layer.opts.ids.status);
    if (status) { status.textContent = message; }
  };

  DensityView.prototype._writeUrl = function () { if (this.layer.writeUrl) { this.layer.writeUrl(); } };

  DensityView.prototype.setView = function (view) {
    this.state.view = view;
    var map = this.map, layer = this.layer, density = view === 'density';
    map.getContainer().classList.toggle('is-density', density);
    var options = this._byId('options');
    if (options) { options.hidden = !density; }
    var radio = this._byId(density ? 'density' : 'markers');
    if (radio) { radio.checked = true; }
    if (density) {
      map.removeLayer(layer.cluster);
      map.removeLayer(layer.regions);
      this.group.addTo(map);
      this.legend.addTo(map);
      this.refresh();
    } else {
      this.pause();
      this.group.remove();
      this.legend.remove();
      layer.regions.addTo(map);
      layer.cluster.addTo(map);
      map.getContainer().removeAttribute('data-density');
      if (this.markersStale) { this.markersStale = false; layer.load().catch(function () {}); }
    }
    this._writeUrl();
  };

  // Show the date range of a frame in the map's own date controls (fields and sliders) and filter state.
  DensityView.prototype._showRange = function (from, to) {
    var state = this.layer.state, ids = this.layer.opts.ids || {};
    state.from = from;
    state.to = to;
    this.markersStale = true;
    var fromField = document.getElementById(ids.from), toField = document.getElementById(ids.to);
    if (fromField) { fromField.value = from; }
    if (toField) { toField.value = to; }
    var min = fromField && fromField.min;
    [[ids.fromRange, from, 0], [ids.toRange, to, 1]].forEach(function (entry) {
      var range = document.getElementById(entry[0]);
      if (!range || !min) { return; }
      range.value = entry[1] ? Math.round((Date.parse(entry[1]) - Date.parse(min)) / DAY) : (entry[2] ? range.max : 0);
      range.setAttribute('aria-valuetext', entry[1] || (entry[2] ? 'latest' : 'earliest'));
    });
  };

  DensityView.prototype._timeline = function () {
    var self = this;
    return this._fetch(this._url(true)).then(function (data) { self.data = data; return data.periods || []; });
  };

  DensityView.prototype.goTo = function (period) {
    if (!this.savedRange) { this.savedRange = {from: this.layer.state.from, to: this.layer.state.to}; }
    this.state.at = period.start;
    this._showRange(period.start, period.end);
    this.render();
  };

  DensityView.prototype.step = function (delta) {
    var self = this;
    return this._timeline().then(function (periods) {
      if (!periods.length) { self._say('No dated articles in the filter to step through.'); self.pause(); return; }
      var frame = self.state.at ? self._frame() : null;
      var index = frame ? frame.index + delta : (delta > 0 ? 0 : periods.length - 1);
      if (index >= periods.length) { self.pause(); return; }
      self.goTo(periods[Math.max(0, index)]);
    });
  };

  DensityView.prototype.play = function () {
    var self = this, button = this._byId('play');
    if (this.timer) { return; }
    this.timer = true;
    if (button) { button.textContent = '❚❚ Pause'; button.setAttribute('aria-label', 'Pause the timeline'); }
    this._timeline().then(function (periods) {
      var frame = self.state.at ? self._frame() : null;
      var atEnd = frame && frame.index === periods.length - 1;
      // Start at the first frame (or again from the start when the last one is shown).
      return (!frame || atEnd) && periods.length ? self.goTo(periods[0]) : null;
    }).then(function () {
      if (self.timer === true) { self.timer = setInterval(function () { self.step(1); }, FRAME_MS); }
    });
  };

  DensityView.prototype.pause = function () {
    var button = this._byId('play');
    if (this.timer && this.timer !== true) { clearInterval(this.timer); }
    this.timer = null;
    if (button) { button.textContent = '▶ Play'; button.setAttribute('aria-label', 'Play the timeline'); }
  };

  // Back to every date of the filter: the range before the first frame, and the totals.
  DensityView.prototype.allDates = function () {
    this.pause();
    var saved = this.savedRange || {from: '', to: ''};
    this.savedRange = null;
    this.state.at = '';
    this._showRange(saved.from, saved.to);
    this.markersStale = false;
    this.layer.load().catch(function () {});  // the markers follow, and the load refreshes the shading
  };

  DensityView.prototype._stepLabels = function () {
    var word = this.state.step;
    var prev = this._byId('prev'), next = this._byId('next');
    if (prev) { prev.setAttribute('aria-label', 'Previous ' + word); prev.title = 'Previous ' + word; }
    if (next) { next.setAttribute('aria-label', 'Next ' + word); next.title = 'Next ' + word; }
  };

  DensityView.prototype._bindControls = function () {
    var self = this, layer = this.layer;
    var choose = function (key, element) {
      if (!element) { return; }
      element.value = self.state[key];
      element.addEventListener('change', function () {
        self.state[key] = element.value;
        if (key === 'step') { self.pause(); self._stepLabels(); }
        self.refresh();
        self._writeUrl();
      });
    };
    choose('by', this._byId('by'));
    choose('count', this._byId('count'));
    choose('step', this._byId('step'));
    this._stepLabels();
    ['markers', 'density'].forEach(function (view) {
      var radio = self._byId(view);
      if (radio) { radio.addEventListener('change', function () { if (radio.checked) { self.setView(view); } }); }
    });
    var click = function (key, fn) { var b = self._byId(key); if (b) { b.addEventListener('click', fn); } };
    click('play', function () { if (self.timer) { self.pause(); } else { self.play(); } });
    click('prev', function () { self.pause(); self.step(-1); });
    click('next', function () { self.pause(); self.step(1); });
    click('all', function () { self.allDates(); });
    var timeline = this._byId('timeline');
    if (timeline) {
      timeline.addEventListener('keydown', function (event) {
        if (event.target.tagName === 'SELECT') { return; }
        if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
          event.preventDefault();
          self.pause();
          self.step(event.key === 'ArrowRight' ? 1 : -1);
        }
      });
    }
    // A date chosen by hand (fields or sliders: their events are the user's) leaves the timeline's frames.
    var ids = layer.opts.ids || {};
    [ids.from, ids.to, ids.fromRange, ids.toRange].forEach(function (id) {
      var input = id && document.getElementById(id);
      if (!input) { return; }
      var manual = function () { if (self.state.at) { self.pause(); self.state.at = ''; self.savedRange = null; } };
      input.addEventListener('input', manual);
      input.addEventListener('change', manual);
    });
    layer.onChange(function (_layer, why) {
      if (why === 'load' || why === 'layers') { self.refresh(); }
    });
  };

  mapapp.stateExtras = mapapp.stateExtras || [];
  mapapp.stateExtras.push(function (layer, params) {
    var view = layer.density;
    if (!view || view.state.view !== 'density') { return; }
    params.set('view', 'density');
    params.set('by', view.state.by);
    params.set('count', view.state.count);
    params.set('step', view.state.step);
    if (view.state.at) { params.set('at', view.state.at); }
  });

  mapapp.densityView = function (layer, opts) {
    var view = layer.density = new DensityView(layer, opts);
    if (view.state.view === 'density') {
      // After the first markers load: the map's view is placed by then.
      layer.map.once('mapapp:started', function () { view.setView('density'); });
    }
    return view;
  };
}());
