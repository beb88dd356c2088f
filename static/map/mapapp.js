/* mapapp's map behaviour, in a few files that attach to one namespace, `window.mapapp` (loaded in this order,
 * mapapp.maps.vendor.MAP_SCRIPTS): this file (the namespace, DOM helpers and styles by feature type), data.js
 * (the data layer: loading, drawing, popups, start-up), basemap.js (offline outlines), controls.js (filters,
 * layers, list, search, legend), urlstate.js (the address bar and sharing), reader.js (marked mentions and the
 * reader of an exported file). Every piece of text from the data goes into the page with textContent or as a
 * DOM property, never as HTML. */
(function () {
  'use strict';

  var mapapp = window.mapapp = window.mapapp || {};

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
    if (/^(https?:)?\/\//i.test(url) || /^[/#?]/.test(url)) { return url; }
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
  // A corridor is a band (a polygon) or a road (a line: drawn unfilled below); either way a dashed red edge.
  var ROUTE = {color: '#d7301f', weight: 3, opacity: 0.9, fillOpacity: 0.25, dashArray: '10 6'};
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

  /* ------------------------------------------------------------------ requests and timing */

  function fetchJson(url) {
    // No custom headers: the request must match a <link rel="preload" as="fetch" crossorigin> of the page.
    return fetch(url, {credentials: 'same-origin'}).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || ('HTTP ' + response.status)); }
        return body;
      });
    });
  }

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

  // What the other files (and corrections.js) use; the map's own calls are the functions on `mapapp` itself.
  mapapp.util = {
    el: el, safeHref: safeHref, byId: byId, list: list, highlighted: highlighted, dateText: dateText,
    UNKNOWN_SOURCE: UNKNOWN_SOURCE, NONE: NONE, sourceLabel: sourceLabel, announce: announce,
    STYLES: STYLES, DEFAULT_STYLE: DEFAULT_STYLE, featureLabel: featureLabel, styleFor: styleFor,
    fetchJson: fetchJson, deferred: deferred, debounce: debounce
  };
}());
