/* mapapp's offline basemap: the gazetteer's country outlines under the data, when there are no tiles. */
(function (mapapp) {
  'use strict';

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
}(window.mapapp));
