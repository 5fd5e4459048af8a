// The capture page's service worker: the page and its files come from the network when there
// is one (so a new version arrives), else from this cache; nothing else is ever cached (the
// sample, the photos and the sync go to the server or fail).
var CACHE = "rectify-capture-v1";
var SHELL = ["/capture", "/static/capture.js", "/static/capture.css", "/static/style.css",
             "/capture/manifest.webmanifest", "/static/capture-icon.svg"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  var path = url.pathname === "/capture/" ? "/capture" : url.pathname;
  if (SHELL.indexOf(path) < 0) return;
  event.respondWith(fetch(event.request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(path, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(path).then(function (hit) { return hit || Response.error(); });
  }));
});
