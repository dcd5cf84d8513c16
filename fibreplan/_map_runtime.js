// fibreplan map runtime: draws the compact layer data written by fibreplan.maps.
// Every string in the data is already HTML-escaped by Python; nothing here reads
// from the network. `window.fibreplan` exposes the map and per-layer counts for tests.
(function (map, data) {
  "use strict";
  var fp = {map: map, layers: {}, ready: false, data: data, started_ms: performance.now()};
  window.fibreplan = fp;
  var S = data.scale, X0 = data.origin[0], Y0 = data.origin[1];

  function latlng(xy, i) { return [(xy[2 * i + 1] + Y0) / S, (xy[2 * i] + X0) / S]; }
  function value(col, i) { return col.v ? col.v[i] : col.u[col.c[i]]; }
  function table(part, i, fields) {
    var rows = "";
    for (var k = 0; k < fields.length; k++) {
      var col = part.cols[fields[k][0]];
      if (!col) { continue; }
      rows += "<tr><th>" + fields[k][1] + "</th><td>" + value(col, i) + "</td></tr>";
    }
    return '<table class="fibreplan-tooltip">' + rows + "</table>";
  }
  function feature(layer, part, i) {
    var style = part.w ? Object.assign({}, part.style, {weight: part.w[i]}) : part.style, f;
    if (part.kind === "line") {
      var pts = [];
      for (var j = part.off[i]; j < part.off[i + 1]; j++) { pts.push(latlng(part.xy, j)); }
      f = L.polyline(pts, style);
    } else if (part.kind === "star") {
      f = L.marker(latlng(part.xy, i), {icon: L.divIcon({html: data.star, iconSize: [28, 28],
        iconAnchor: [14, 14], className: ""})});
    } else {
      f = L.circleMarker(latlng(part.xy, i), Object.assign({radius: part.radius}, style));
    }
    f._fp = [part, i];
    return f;
  }
  function anchor(part, i) { return part.kind === "line" ? part.off[i] : i; }

  // Detail parts of a large plan are drawn only from data.detail_zoom on, and only in
  // the grid cells in view (cells of about 500 m); below it cabinet areas summarise them.
  var cellDeg = data.cell * S;
  function cellOf(part, i) {
    var j = anchor(part, i);
    return Math.floor(part.xy[2 * j] / cellDeg) + ":" + Math.floor(part.xy[2 * j + 1] / cellDeg);
  }
  function buildCells(part) {
    part.cells = {};
    for (var i = 0; i < part.n; i++) {
      var c = cellOf(part, i);
      (part.cells[c] = part.cells[c] || []).push(i);
    }
    part.shown = {};
  }
  // Line parts with an overview (streets, trenches, cables of a large plan) are drawn
  // below data.detail_zoom as a few merged, non-interactive polylines (one per width).
  function overview(part) {
    if (!part.overviewLayers) {
      var byWidth = {};
      for (var i = 0; i < part.n; i++) {
        var w = part.w ? Math.round(part.w[i]) : part.style.weight, pts = [];
        for (var j = part.off[i]; j < part.off[i + 1]; j++) { pts.push(latlng(part.xy, j)); }
        (byWidth[w] = byWidth[w] || []).push(pts);
      }
      part.overviewLayers = Object.keys(byWidth).map(function (w) {
        return L.polyline(byWidth[w], Object.assign({}, part.style,
          {weight: Number(w), interactive: false}));
      });
    }
    return part.overviewLayers;
  }
  function refreshDetail(entry) {
    var visible = map.hasLayer(entry.group), zoomedIn = map.getZoom() >= data.detail_zoom;
    var b = map.getBounds(), want = {};
    if (visible && zoomedIn) {
      var x1 = Math.floor((b.getWest() * S - X0) / cellDeg), x2 = Math.floor((b.getEast() * S - X0) / cellDeg);
      var y1 = Math.floor((b.getSouth() * S - Y0) / cellDeg), y2 = Math.floor((b.getNorth() * S - Y0) / cellDeg);
      for (var x = x1; x <= x2; x++) { for (var y = y1; y <= y2; y++) { want[x + ":" + y] = true; } }
    }
    entry.parts.forEach(function (part) {
      if (!part.detail) { return; }
      if (part.overview) {
        overview(part).forEach(function (l) {
          if (visible && !zoomedIn) { entry.group.addLayer(l); } else { entry.group.removeLayer(l); }
        });
      }
      if (!part.cells) { buildCells(part); }
      Object.keys(part.shown).forEach(function (c) {
        if (!want[c]) { part.shown[c].forEach(function (f) { entry.group.removeLayer(f); }); delete part.shown[c]; }
      });
      Object.keys(want).forEach(function (c) {
        if (part.shown[c] || !part.cells[c]) { return; }
        part.shown[c] = part.cells[c].map(function (i) { var f = feature(null, part, i); entry.group.addLayer(f); return f; });
      });
    });
  }

  var overlays = {};
  data.layers.forEach(function (layer) {
    var group = L.featureGroup(), count = 0, detail = false;
    layer.parts.forEach(function (part) {
      count += part.n;
      if (part.detail) { detail = true; return; }
      if (layer.summary) { return; }  // drawn by its zoom toggle below
      for (var i = 0; i < part.n; i++) { group.addLayer(feature(layer, part, i)); }
    });
    var entry = {group: group, count: count, detail: detail, parts: layer.parts,
                 label: layer.label, popup: layer.popup};
    if (layer.fields.length) {
      var content = function (f) { return table(f._fp[0], f._fp[1], layer.fields); };
      group.bindTooltip(content, {sticky: true});
      group.bindPopup(function (f) { return table(f._fp[0], f._fp[1], layer.popup); });
    }
    if (detail) {
      map.on("moveend", function () { refreshDetail(entry); });
      group.on("add", function () { refreshDetail(entry); });
    }
    if (layer.summary) {  // a summary of the detail layers: only below the detail zoom
      var toggle = function () {
        var below = map.getZoom() < data.detail_zoom;
        entry.parts.forEach(function (part) {
          if (!part.layers) {
            part.layers = [];
            for (var i = 0; i < part.n; i++) { part.layers.push(feature(layer, part, i)); }
          }
          part.layers.forEach(function (f) {
            if (below) { group.addLayer(f); } else { group.removeLayer(f); }
          });
        });
      };
      map.on("zoomend", toggle);
      toggle();
    }
    if (layer.show) { group.addTo(map); }
    overlays[layer.label] = group;
    fp.layers[layer.id] = entry;
  });
  L.control.layers(null, overlays, {collapsed: false}).addTo(map);

  fp.drawnCount = function () {
    var n = 0;
    Object.keys(fp.layers).forEach(function (k) {
      if (map.hasLayer(fp.layers[k].group)) { n += fp.layers[k].group.getLayers().length; }
    });
    return n;
  };

  // Search a premises by id or UPRN (offline: the index is the premises layer itself).
  fp.search = function (text) {
    var key = String(text).trim(), entry = fp.layers.premises;
    if (!key || !entry) { return false; }
    var fields = data.search_columns;
    for (var p = 0; p < entry.parts.length; p++) {
      var part = entry.parts[p];
      for (var k = 0; k < fields.length; k++) {
        var col = part.cols[fields[k]];
        if (!col) { continue; }
        for (var i = 0; i < part.n; i++) {
          if (value(col, i) === key) {
            var at = latlng(part.xy, i);
            map.setView(at, Math.max(map.getZoom(), data.detail_zoom + 2));
            L.popup().setLatLng(at).setContent(table(part, i, entry.popup)).openOn(map);
            return true;
          }
        }
      }
    }
    return false;
  };
  if (fp.layers.premises) {
    var Search = L.Control.extend({
      onAdd: function () {
        var div = L.DomUtil.create("div", "leaflet-bar fibreplan-search");
        var input = L.DomUtil.create("input", "", div);
        input.type = "search";
        input.placeholder = data.search_placeholder;
        input.style.cssText = "width:190px;padding:4px;border:none;font:12px sans-serif";
        var msg = L.DomUtil.create("div", "fibreplan-search-message", div);
        msg.style.cssText = "font:11px sans-serif;padding:0 4px;background:#fff";
        input.addEventListener("keydown", function (e) {
          if (e.key === "Enter") { msg.textContent = fp.search(input.value) ? "" : "not found"; }
        });
        L.DomEvent.disableClickPropagation(div);
        return div;
      }
    });
    new Search({position: "topleft"}).addTo(map);
  }
  fp.ready = true;
  fp.drawn_ms = performance.now();
})
