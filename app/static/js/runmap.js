// The run page's street map (Leaflet over KITRUN_TILE_URL). Without JavaScript, without
// Leaflet or when no tile loads, the drawn SVG map stays: this script only adds to the page.
(function () {
  "use strict";
  var box = document.getElementById("runmap");
  var dataEl = document.getElementById("runmap-data");
  if (!box || !dataEl || !window.L) return;
  var data = JSON.parse(dataEl.textContent);
  if (!data.tiles) return;
  var T = data.texts || {};
  var drawn = document.getElementById("run-drawn");
  var offline = document.getElementById("runmap-offline");
  var csrf = document.querySelector("input[name=csrf_token]");

  box.hidden = false;
  if (drawn) drawn.hidden = true;
  var map = L.map(box, { scrollWheelZoom: false });
  map.attributionControl.setPrefix(false);
  var tiles = L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.attribution });
  var loaded = 0;
  tiles.on("tileload", function () { loaded += 1; box.classList.add("tiles-ok"); });
  tiles.addTo(map);
  // No tile after a while (server unreachable, blocked): back to the drawn map.
  window.setTimeout(function () {
    if (loaded > 0) return;
    map.remove();
    box.hidden = true;
    if (drawn) drawn.hidden = false;
    if (offline) offline.hidden = false;
    document.querySelectorAll(".place-pin").forEach(function (b) { b.hidden = true; });
  }, 6000);

  function text(s) {
    var span = document.createElement("span");
    span.textContent = s;
    return span;
  }
  function icon(cls, label) {
    return L.divIcon({ className: cls, html: String(label), iconSize: [24, 24], iconAnchor: [12, 12] });
  }

  var bounds = [];
  var depot = [data.depot.lat, data.depot.lon];
  bounds.push(depot);
  L.marker(depot, { icon: icon("runmap-depot", "D"), title: T.depot, keyboard: false }).addTo(map);

  data.routes.forEach(function (r) {
    var line = [depot];
    r.stops.forEach(function (s) {
      var at = [s.lat, s.lon];
      line.push(at);
      bounds.push(at);
      L.marker(at, {
        icon: icon("runmap-stop v" + r.index + " " + s.status, s.seq),
        title: r.name + " · " + s.seq + " · " + s.label,
      }).bindTooltip(text(r.name + " #" + s.seq + ": " + s.label)).addTo(map);
    });
    line.push(depot);
    if (r.stops.length) {
      L.polyline(line, { color: r.colour, weight: 4, opacity: 0.85, className: "runmap-route" }).addTo(map);
    }
  });
  data.unassigned.forEach(function (s) {
    var at = [s.lat, s.lon];
    bounds.push(at);
    var why = (T.reasons && T.reasons[s.reason]) || s.reason || "";
    L.marker(at, { icon: icon("runmap-loose", "?"), title: s.label })
      .bindTooltip(text(T.unrouted + ": " + s.label + (why ? " — " + why : "")))
      .addTo(map);
  });
  if (bounds.length > 1) map.fitBounds(bounds, { padding: [30, 30] });
  else map.setView(depot, 13);

  // Placing a pin: the button arms the map, the next click saves the position.
  var armed = null;
  var status = document.createElement("p");
  status.className = "runmap-status";
  status.setAttribute("role", "status");
  box.insertAdjacentElement("afterend", status);

  function save(stopId, latlng) {
    status.textContent = T.saving;
    var body = new FormData();
    body.append("csrf_token", csrf ? csrf.value : "");
    body.append("lat", latlng.lat.toFixed(6));
    body.append("lon", latlng.lng.toFixed(6));
    fetch(data.pin_url.replace("{id}", stopId), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        window.location.reload();
      })
      .catch(function () { status.textContent = T.failed; });
  }
  document.querySelectorAll(".place-pin").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      armed = b.getAttribute("data-stop");
      box.classList.add("placing");
      status.textContent = T.place;
      box.scrollIntoView({ block: "center" });
    });
  });
  map.on("click", function (e) {
    if (!armed) return;
    var stopId = armed;
    armed = null;
    box.classList.remove("placing");
    var m = L.marker(e.latlng, { icon: icon("runmap-pin", "!"), draggable: true }).addTo(map);
    m.on("dragend", function () { save(stopId, m.getLatLng()); });
    save(stopId, e.latlng);
  });
})();
