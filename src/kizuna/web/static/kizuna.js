/* Kizuna's own page script: renders server-built Plotly figures and sorts tables. */
(function () {
  "use strict";

  function renderCharts() {
    if (typeof window.Plotly === "undefined") { return; }
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, figure.data, figure.layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["select2d", "lasso2d"]
      });
    });
  }

  function compare(kind, a, b) {
    if (a === "" && b === "") { return 0; }
    if (a === "") { return 1; }
    if (b === "") { return -1; }
    if (kind === "number") { return parseFloat(a) - parseFloat(b); }
    return a.localeCompare(b);
  }

  function sortTable(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var index = headers.indexOf(th);
    var kind = th.getAttribute("data-kind") || "text";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    if (th.getAttribute("aria-sort") === "none" && kind === "number") { ascending = false; }
    headers.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = r1.cells[index].getAttribute("data-sort") || "";
      var b = r2.cells[index].getAttribute("data-sort") || "";
      if (a === "" || b === "") { return compare(kind, a, b); }
      var result = compare(kind, a, b);
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function wireSorting() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("button.sort").forEach(function (button) {
        button.addEventListener("click", function () { sortTable(table, button.closest("th")); });
      });
    });
  }

  function start() { renderCharts(); wireSorting(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
