/* mapapp's URL state and sharing: filters, selection and view in the address, and the "Share / embed" dialog. */
(function (mapapp) {
  'use strict';

  var util = mapapp.util;
  var byId = util.byId, announce = util.announce, debounce = util.debounce;

  // The filters the server applies, then the layer toggles, the selection and the view.
  function stateParams(layer) {
    var s = layer.state, params = layer.filterParams();
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
      } catch { /* some file:// contexts refuse; the view still works */ }
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
    var filtersBox = byId(ids.filters), preview = byId(ids.preview), densityBox = byId(ids.density);
    if (!button || !panel || !snippet) { return; }
    var DENSITY_KEYS = ['view', 'by', 'count', 'step', 'at'];
    var embedUrl = function () {
      var all = stateParams(layer), params = new URLSearchParams();
      var withFilters = !filtersBox || filtersBox.checked, withView = viewBox && viewBox.checked;
      var fixed = layer.opts.fixedParams || {};
      all.forEach(function (value, key) {
        if (DENSITY_KEYS.indexOf(key) >= 0) { return; }  // the density box below decides
        var isView = key === 'zoom' || key === 'lat' || key === 'lon';
        if (isView ? withView : (withFilters || fixed[key] !== undefined)) { params.append(key, value); }
      });
      // The embed opens in the density view with this page's choices (the frame shown only with the filters,
      // whose date range it is).
      if (densityBox && densityBox.checked && layer.density) {
        var density = layer.density.state;
        params.set('view', 'density');
        ['by', 'count', 'step'].forEach(function (key) { params.set(key, density[key]); });
        if (withFilters && density.at) { params.set('at', density.at); }
      }
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
      // The embed shows what this page shows: the density view when it is on.
      if (open && densityBox) {
        densityBox.closest('label').hidden = !layer.density;
        densityBox.checked = !!layer.density && layer.density.state.view === 'density';
      }
      if (open) { fill(); snippet.focus(); snippet.select(); }
    });
    [width, height, viewBox, byId(ids.fit), filtersBox, densityBox].forEach(function (input) {
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
}(window.mapapp));
