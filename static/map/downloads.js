// Download links of the map view (GeoJSON, CSV, KML, GeoPackage): their query follows the current filters.
(function () {
  'use strict';
  var mapapp = window.mapapp;

  // The filters the API reads (sources, dates, kinds of place, articles, and the view's fixed ones).
  function filterQuery(layer) {
    var params = layer.filterParams();
    layer.state.feature.forEach(function (v) { params.append('feature', v); });
    layer.state.article.forEach(function (v) { params.append('article', v); });
    return params.toString();
  }
  mapapp.filterQuery = filterQuery;

  mapapp.downloadLinks = function (layer, opts) {
    var ids = opts.ids || {};
    var update = function () {
      var query = filterQuery(layer);
      Object.keys(ids).forEach(function (fmt) {
        var link = document.getElementById(ids[fmt]);
        if (link) { link.href = opts.url + '.' + fmt + (query ? '?' + query : ''); }
      });
    };
    layer.onChange(function (_layer, why) { if (why !== 'select') { update(); } });
    update();
  };
}());
