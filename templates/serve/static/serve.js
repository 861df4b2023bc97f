// dhpc serve: follow saves of the content folder; keep the reviewer's name in this browser.
// No framework and no build step; everything works without it but the live refresh.
(function () {
  "use strict";
  var body = document.body;
  var seen = body.getAttribute("data-version");
  var page = body.getAttribute("data-page");

  // --- the reviewer: asked once, kept in this browser (localStorage) ---------------------
  var nameBox = document.getElementById("reviewer-name");
  var roleBox = document.getElementById("reviewer-role");
  var store = window.localStorage;
  if (nameBox && roleBox) {
    nameBox.value = store.getItem("dhpc.reviewer.name") || "";
    roleBox.value = store.getItem("dhpc.reviewer.role") || "";
    nameBox.addEventListener("input", function () { store.setItem("dhpc.reviewer.name", nameBox.value); });
    roleBox.addEventListener("input", function () { store.setItem("dhpc.reviewer.role", roleBox.value); });
    document.querySelectorAll("form[data-reviewer]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!nameBox.value.trim()) {
          event.preventDefault();
          document.getElementById("reviewer-missing").hidden = false;
          nameBox.focus();
          return;
        }
        form.elements.name.value = nameBox.value;
        form.elements.role.value = roleBox.value;
      });
    });
  }

  // --- live refresh ---------------------------------------------------------------------
  var refreshing = false;
  var again = false;

  function reloadFrame(frame, version) {
    var y = 0;
    try { y = frame.contentWindow.scrollY; } catch (e) { y = 0; }
    frame.addEventListener("load", function () {
      try { frame.contentWindow.scrollTo(0, y); } catch (e) { /* another page */ }
    }, { once: true });
    frame.src = frame.getAttribute("data-src") + "?v=" + encodeURIComponent(version);
  }

  function refreshPreview(version) {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var newLive = fresh.getElementById("live");
        var live = document.getElementById("live");
        if (!newLive || !live) { return; }
        var frame = document.getElementById("letter-frame");
        if (frame && newLive.getAttribute("data-state") === "letter" &&
            live.getAttribute("data-state") === "letter") {
          reloadFrame(frame, version);
          document.getElementById("findings").replaceWith(
            document.importNode(fresh.getElementById("findings"), true));
        } else {
          live.replaceWith(document.importNode(newLive, true));
        }
        body.setAttribute("data-version", version);
      })
      .catch(function () { /* the server stopped: keep what is shown */ })
      .finally(function () {
        refreshing = false;
        if (again) { again = false; refreshPreview(seen); }
      });
  }

  if (window.EventSource) {
    var events = new EventSource("/events");
    events.onmessage = function (event) {
      if (event.data === seen) { return; }
      seen = event.data;
      if (page === "preview") {
        refreshPreview(seen);
      } else {
        var banner = document.getElementById("changed");
        if (banner) { banner.hidden = false; }
      }
    };
  }
})();
