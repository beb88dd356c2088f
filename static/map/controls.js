/* mapapp's controls bound to the page: source and date filters, layer toggles, the list of places, place search,
 * the legend and the "fit to data" button. */
(function (mapapp) {
  'use strict';

  var util = mapapp.util;
  var el = util.el, byId = util.byId, dateText = util.dateText, UNKNOWN_SOURCE = util.UNKNOWN_SOURCE,
    NONE = util.NONE, sourceLabel = util.sourceLabel, announce = util.announce;
  var STYLES = util.STYLES, DEFAULT_STYLE = util.DEFAULT_STYLE, featureLabel = util.featureLabel,
    fetchJson = util.fetchJson, deferred = util.deferred, debounce = util.debounce;

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
}(window.mapapp));
