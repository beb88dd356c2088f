/* Corrections on the article page, for a logged-in editor only (the page includes this file only then):
 * select a highlighted name to choose among its candidates or mark it "not a place here"; select plain
 * text to say "this is a place". Every piece of text goes into the page with textContent, never as HTML.
 * The server (admin blueprint, CSRF token and Origin check) validates everything again. Part of the
 * `window.mapapp` namespace: the page's map scripts (static/map/mapapp.js first) load before it. */
(function (mapapp) {
  'use strict';

  var config = document.getElementById('correction-config');
  var container = document.getElementById('article-text');
  if (!config || !container) { return; }
  var settings = config.dataset;
  var el = mapapp.util.el;
  var WORD = /[\p{L}\p{N}\p{M}_]/u;
  var panel = null, selectButton = null, outlines = null, opener = null;

  function numberText(n) {
    return Number(n || 0).toLocaleString('en');
  }

  function getJSON(url) {
    return fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(answer);
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRFToken': settings.csrfToken},
      body: JSON.stringify(body)
    }).then(answer);
  }

  function answer(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      if (!response.ok) { throw new Error(body.error || ('The server answered ' + response.status)); }
      return body;
    });
  }

  /* ------------------------------------------------------------------ offsets in code points */

  // The article text as the server stores it: Python offsets count code points, not UTF-16 units.
  var chars = Array.from(container.textContent);

  function offsetOf(node, offset) {
    var range = document.createRange();
    range.setStart(container, 0);
    range.setEnd(node, offset);
    return Array.from(range.toString()).length;
  }

  // Widen a span to whole words and trim the spaces and punctuation around it, as the server requires.
  function snap(start, end) {
    while (start < end && !WORD.test(chars[start])) { start += 1; }
    while (end > start && !WORD.test(chars[end - 1])) { end -= 1; }
    while (start > 0 && WORD.test(chars[start - 1])) { start -= 1; }
    while (end < chars.length && WORD.test(chars[end])) { end += 1; }
    return [start, end];
  }

  /* ------------------------------------------------------------------ the mini map */

  var MINI_W = 120, MINI_H = 72, SPAN_LON = 40, SPAN_LAT = 24;

  function loadOutlines() {
    if (!outlines) {
      outlines = getJSON(settings.outlinesUrl).catch(function () { return {features: []}; });
    }
    return outlines;
  }

  function rings(geometry) {
    if (!geometry) { return []; }
    if (geometry.type === 'Polygon') { return geometry.coordinates; }
    if (geometry.type === 'MultiPolygon') { return [].concat.apply([], geometry.coordinates); }
    return [];
  }

  // A small locator: the country outlines around the place, and a dot where it is.
  function miniMap(place) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    var west = place.lon - SPAN_LON / 2, north = place.lat + SPAN_LAT / 2;
    var x = function (lon) { return ((lon - west) / SPAN_LON) * MINI_W; };
    var y = function (lat) { return ((north - lat) / SPAN_LAT) * MINI_H; };
    svg.setAttribute('viewBox', '0 0 ' + MINI_W + ' ' + MINI_H);
    svg.setAttribute('class', 'correction-minimap');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'Location ' + place.lat.toFixed(2) + ', ' + place.lon.toFixed(2));
    var sea = document.createElementNS(ns, 'rect');
    sea.setAttribute('width', MINI_W); sea.setAttribute('height', MINI_H); sea.setAttribute('class', 'sea');
    svg.appendChild(sea);
    var land = document.createElementNS(ns, 'path');
    land.setAttribute('class', 'land');
    svg.appendChild(land);
    var dot = document.createElementNS(ns, 'circle');
    dot.setAttribute('cx', x(place.lon)); dot.setAttribute('cy', y(place.lat)); dot.setAttribute('r', 3.5);
    dot.setAttribute('class', 'dot');
    svg.appendChild(dot);
    loadOutlines().then(function (collection) {
      var d = [];
      (collection.features || []).forEach(function (feature) {
        rings(feature.geometry).forEach(function (ring) {
          var inside = ring.some(function (p) {
            return p[0] > west - 10 && p[0] < west + SPAN_LON + 10 && p[1] < north + 10 && p[1] > north - SPAN_LAT - 10;
          });
          if (!inside) { return; }
          d.push('M' + ring.map(function (p) { return x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1); }).join('L') + 'Z');
        });
      });
      land.setAttribute('d', d.join(''));
      svg.setAttribute('data-outlines', String(d.length));
    });
    return svg;
  }

  /* ------------------------------------------------------------------ the panel */

  function closePanel() {
    if (!panel) { return; }
    panel.remove();
    panel = null;
    if (opener && opener.isConnected) { opener.focus(); }  // back where the editor was reading
  }

  function status(text, isError) {
    var line = panel && panel.querySelector('.correction-status');
    if (!line) { return; }
    line.textContent = text;
    line.classList.toggle('is-error', !!isError);
  }

  function candidateItem(place, span, currentId) {
    var item = el('li', 'correction-candidate');
    item.setAttribute('data-place-id', place.id);
    var button = el('button', 'correction-choose');
    button.type = 'button';
    button.appendChild(miniMap(place));
    var words = el('span', 'correction-words');
    words.appendChild(el('strong', 'correction-name', place.name));
    words.appendChild(el('span', 'correction-kind', place.kind));
    var where = [place.admin1, place.country].filter(Boolean).join(', ');
    if (where) { words.appendChild(el('span', 'correction-where', where)); }
    words.appendChild(el('span', 'correction-population',
      place.population ? 'population ' + numberText(place.population) : 'population unknown'));
    if (place.id === currentId) {
      words.appendChild(el('span', 'correction-current', 'read as this now — choose to confirm'));
      item.classList.add('is-current');
    }
    button.appendChild(words);
    button.addEventListener('click', function () {
      save({action: 'place', place_id: place.id}, span, place);
    });
    item.appendChild(button);
    return item;
  }

  function fillList(list, places, span, currentId) {
    list.textContent = '';
    if (!places.length) { list.appendChild(el('li', 'correction-empty', 'No place of that name in the gazetteer.')); }
    places.forEach(function (place) { list.appendChild(candidateItem(place, span, currentId)); });
  }

  function openPanel(span, mark) {
    closePanel();
    opener = mark;
    panel = el('section', 'correction-panel');
    panel.id = 'correction-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-labelledby', 'correction-heading');
    var heading = el('h2', null, 'Which place is “' + span.text + '” here?');
    heading.id = 'correction-heading';
    panel.appendChild(heading);
    var close = el('button', 'correction-close', '×');
    close.type = 'button';
    close.setAttribute('aria-label', 'Close');
    close.addEventListener('click', closePanel);
    panel.appendChild(close);
    panel.appendChild(el('p', 'correction-status', 'Loading the candidates…')).setAttribute('aria-live', 'polite');
    var list = el('ul', 'correction-candidates');
    panel.appendChild(list);

    var actions = el('div', 'correction-actions');
    if (mark) {
      var notPlace = el('button', 'correction-not-place', 'Not a place here');
      notPlace.type = 'button';
      notPlace.addEventListener('click', function () { save({action: 'not_place'}, span, null); });
      actions.appendChild(notPlace);
    }
    var create = el('a', 'correction-create', 'Create a new place named “' + span.text + '”');
    create.href = settings.newPlaceUrl + '?name=' + encodeURIComponent(span.text);
    create.target = '_blank';
    create.rel = 'noopener';
    actions.appendChild(create);
    panel.appendChild(actions);

    var form = el('form', 'correction-search');
    form.setAttribute('role', 'search');
    var label = el('label', null, 'Search the gazetteer ');
    var input = el('input');
    input.type = 'search'; input.name = 'q'; input.value = span.text; input.maxLength = 200;
    label.appendChild(input);
    form.appendChild(label);
    var go = el('button', null, 'Search');
    go.type = 'submit';
    form.appendChild(go);
    var results = el('ul', 'correction-results');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      status('Searching…');
      getJSON(settings.searchUrl + '?q=' + encodeURIComponent(input.value)).then(function (body) {
        fillList(results, body.places, span, null);
        status(body.total + ' place' + (body.total === 1 ? '' : 's') + ' found' +
          (body.total > body.places.length ? ', the first ' + body.places.length + ' shown' : '') + '.');
      }).catch(function (error) { status(error.message, true); });
    });
    panel.appendChild(form);
    panel.appendChild(results);
    document.body.appendChild(panel);
    panel.addEventListener('keydown', function (event) { if (event.key === 'Escape') { closePanel(); } });

    var url = settings.candidatesUrl + '?article_id=' + encodeURIComponent(settings.articleId) +
      '&start=' + span.start + '&end=' + span.end;
    getJSON(url).then(function (body) {
      fillList(list, body.candidates, span, body.current);
      status(body.candidates.length ? 'Choose the place this name means here.' :
        'No candidates: search the gazetteer, or create the place.');
      panel.setAttribute('data-ready', 'true');
      var first = list.querySelector('button');
      (first || input).focus();
    }).catch(function (error) { status(error.message, true); });
  }

  function save(choice, span, place) {
    status('Saving…');
    var body = {article_id: Number(settings.articleId), start: span.start, end: span.end, text: span.text,
      action: choice.action};
    if (choice.place_id) { body.place_id = choice.place_id; }
    postJSON(settings.correctUrl, body).then(function (result) {
      var mark = container.querySelector('mark[data-start="' + span.start + '"][data-end="' + span.end + '"]');
      if (mark && result.mention) {
        mark.setAttribute('data-place-id', result.mention.place_id);
        mark.title = result.mention.place_name || '';
      }
      status('Saved. ' + result.reresolved_mentions + ' other mention(s) changed. Showing the article again…');
      // The article, its map and its list of places, as the server now reads them.
      var next = new URL(settings.articleUrl, location.href);
      if (place) { next.searchParams.set('place', place.id); } else { next.searchParams.delete('place'); }
      next.hash = '';
      location.assign(next.toString());
    }).catch(function (error) { status(error.message, true); });
  }

  /* ------------------------------------------------------------------ what opens it */

  function markSpan(mark) {
    return {start: Number(mark.getAttribute('data-start')), end: Number(mark.getAttribute('data-end')),
      text: mark.textContent};
  }

  container.addEventListener('click', function (event) {
    var mark = event.target.closest && event.target.closest('mark[data-start]');
    if (mark && window.getSelection().isCollapsed) { openPanel(markSpan(mark), mark); }
  });
  container.addEventListener('keydown', function (event) {
    var mark = event.target.closest && event.target.closest('mark[data-start]');
    if (mark && (event.key === 'Enter' || event.key === ' ')) { openPanel(markSpan(mark), mark); }
  });

  function hideSelectButton() {
    if (selectButton) { selectButton.remove(); selectButton = null; }
  }

  // Selected plain text: offer "This is a place…" beside the selection.
  function onSelect() {
    hideSelectButton();
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) { return; }
    var range = selection.getRangeAt(0);
    if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) { return; }
    var bounds = snap(offsetOf(range.startContainer, range.startOffset), offsetOf(range.endContainer, range.endOffset));
    if (bounds[1] <= bounds[0] || bounds[1] - bounds[0] > 200) { return; }
    var span = {start: bounds[0], end: bounds[1], text: chars.slice(bounds[0], bounds[1]).join('')};
    var mark = container.querySelector('mark[data-start="' + span.start + '"][data-end="' + span.end + '"]');
    var rect = range.getBoundingClientRect();
    selectButton = el('button', 'correction-select', mark ? 'Correct “' + span.text + '”…' : 'This is a place…');
    selectButton.type = 'button';
    selectButton.style.left = Math.max(0, rect.left + window.scrollX) + 'px';
    selectButton.style.top = (rect.bottom + window.scrollY + 4) + 'px';
    selectButton.addEventListener('mousedown', function (event) { event.preventDefault(); });
    selectButton.addEventListener('click', function () {
      hideSelectButton();
      openPanel(span, mark);
    });
    document.body.appendChild(selectButton);
  }

  container.addEventListener('mouseup', function () { setTimeout(onSelect, 0); });
  container.addEventListener('keyup', function (event) { if (event.shiftKey) { onSelect(); } });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') { hideSelectButton(); closePanel(); }
  });
}(window.mapapp));
