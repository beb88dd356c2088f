/* mapapp's marked mentions and reader: <mark data-place-id> in a page selects its place on the map, and the
 * reader of an exported file shows an article's text with its mentions marked. */
(function (mapapp) {
  'use strict';

  var util = mapapp.util;
  var el = util.el, byId = util.byId, dateText = util.dateText, safeHref = util.safeHref, announce = util.announce;

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
}(window.mapapp));
