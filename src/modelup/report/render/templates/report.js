// modelup report: filter the per-case list. No network, no eval, text only via textContent.
(function () {
  "use strict";
  var list = document.getElementById("cases");
  if (!list) { return; }
  var cases = Array.prototype.slice.call(list.querySelectorAll("details.case"));
  var search = document.getElementById("case-search");
  var shown = document.getElementById("case-count");
  var filter = "all";

  function apply() {
    var needle = search ? search.value.trim().toLowerCase() : "";
    var visible = 0;
    cases.forEach(function (item) {
      var keep = filter === "all" || item.dataset[filter] === "1";
      if (keep && needle) {
        keep = item.dataset.key.toLowerCase().indexOf(needle) !== -1;
      }
      item.hidden = !keep;
      if (keep) { visible += 1; }
    });
    if (shown) { shown.textContent = "Showing " + visible + " of " + cases.length + " cases"; }
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-filter]"), function (button) {
    button.addEventListener("click", function () {
      filter = button.dataset.filter;
      Array.prototype.forEach.call(document.querySelectorAll("button[data-filter]"), function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      apply();
    });
  });
  if (search) { search.addEventListener("input", apply); }
  var expand = document.getElementById("expand-all");
  if (expand) {
    expand.addEventListener("click", function () {
      var open = expand.getAttribute("aria-pressed") !== "true";
      expand.setAttribute("aria-pressed", open ? "true" : "false");
      expand.textContent = open ? "Collapse all" : "Expand all";
      cases.forEach(function (item) { if (!item.hidden) { item.open = open; } });
    });
  }
  document.documentElement.dataset.ready = "1";
  apply();
}());
