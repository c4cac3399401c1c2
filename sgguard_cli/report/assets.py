"""The report page's stylesheet and script (inline in report.html; the script is allowed by its hash).

Printed (``@media print``), the page is a document: every server's details are expanded - the
``hidden`` detail rows shown, whatever was clicked - and the controls, which do nothing on paper,
are left out; the servers the filter hides stay out (print what you filtered); an interface or
group is not split across pages where it fits on one.
"""

__all__ = ["CSS", "SCRIPT", "PRINT_CSS"]

PRINT_CSS = """
@media print {
  .controls, #empty { display: none !important; }
  tr.detail[hidden] { display: table-row !important; }
  header { background: none; color: #000; padding: 0 0 8px; }
  header p { color: #000; }
  .badge { color: #000; border: 1px solid #000; background: none !important; }
  .nic, .group { break-inside: avoid; }
  tbody.server > tr.row { break-after: avoid; }
}
"""

CSS_SCREEN = """
:root { --ok:#1a7f37; --warn:#b35900; --bad:#c62828; --muted:#57606a; --line:#d0d7de; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; }
header { background: #24292f; color: #fff; padding: 14px 24px; }
header h1 { font-size: 20px; margin: 0 0 4px; }
header p { margin: 0; color: #d0d7de; font-size: 12px; }
main { padding: 16px 24px 40px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px; min-width: 140px;
  background: var(--bg); }
.card b { display: block; font-size: 22px; }
.card span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
th[data-sort] { cursor: pointer; user-select: none; white-space: nowrap; }
th[data-sort]::after { content: " \\2195"; color: var(--muted); }
th[aria-sort="ascending"]::after { content: " \\2191"; color: #1f2328; }
th[aria-sort="descending"]::after { content: " \\2193"; color: #1f2328; }
.kinds { width: auto; margin-bottom: 16px; }
#organisation { margin-bottom: 20px; }
.account { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 0 0 4px; }
.account h3 { font-size: 14px; margin: 0; padding: 8px 12px; background: var(--bg);
  border-bottom: 1px solid var(--line); }
.targets { table-layout: fixed; }
.targets th:nth-child(1) { width: 160px; } .targets th:nth-child(2) { width: 300px; }
.targets th:nth-child(3) { width: 130px; }
.target { font-size: 12px; }
.controls { display: flex; gap: 12px; align-items: center; margin: 16px 0 8px; flex-wrap: wrap; }
.controls input { width: 320px; padding: 6px 8px; font: inherit; }
.controls select { padding: 6px; font: inherit; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #fff; white-space: nowrap; }
.v-compliant { background: var(--ok); } .v-drift_detected { background: var(--warn); }
.v-repaired { background: #0969da; } .v-failed, .v-exposure { background: var(--bad); }
.v-skipped { background: var(--muted); } .v-protected { background: #6639ba; }
tbody.server > tr.row { cursor: pointer; }
tbody.server > tr.row:hover { background: #f3f6fb; }
tbody.server.exposed > tr.row td:first-child { border-left: 4px solid var(--bad); }
tr.detail > td { background: #fbfcfd; padding: 8px 16px 16px; }
.nic { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; background: #fff; }
.nic.exposed { border-color: var(--bad); box-shadow: 0 0 0 1px var(--bad); }
.nic h3 { font-size: 14px; margin: 0; padding: 8px 12px; background: var(--bg); border-bottom: 1px solid var(--line); }
.nic .body { padding: 8px 12px; }
.group { margin: 6px 0 10px; }
.group.exposes { background: #fff0f0; border-left: 4px solid var(--bad); padding-left: 8px; }
.group h4 { margin: 0 0 4px; font-size: 13px; }
.rules { font-size: 12px; margin-bottom: 4px; }
.rules th, .rules td { padding: 2px 6px; }
.rules caption { text-align: left; font-weight: 600; font-size: 12px; color: var(--muted); }
.findings { margin: 6px 0 0; padding-left: 18px; }
.findings li.exposure { color: var(--bad); font-weight: 600; }
.findings .fix { font-weight: normal; color: #1f2328; }
.muted { color: var(--muted); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
#empty { display: none; padding: 16px; color: var(--muted); }
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("servers");
  var filter = document.getElementById("filter");
  var verdict = document.getElementById("verdict");
  var count = document.getElementById("shown");
  var empty = document.getElementById("empty");
  function apply() {
    var text = filter.value.trim().toLowerCase();
    var wanted = verdict.value;
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies, function (body) {
      var ok = (!text || body.getAttribute("data-search").indexOf(text) !== -1) &&
               (!wanted || body.getAttribute("data-verdict") === wanted);
      body.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = String(shown);
    empty.style.display = shown ? "none" : "block";
  }
  function sortBy(th) {
    var key = th.getAttribute("data-sort");
    var numeric = th.getAttribute("data-type") === "number";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var bodies = Array.prototype.slice.call(table.tBodies);
    bodies.sort(function (a, b) {
      var x = a.getAttribute("data-" + key), y = b.getAttribute("data-" + key);
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    bodies.forEach(function (body) { table.appendChild(body); });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    if (th.hasAttribute("data-sort")) {
      th.addEventListener("click", function () { sortBy(th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(th); } });
    }
  });
  Array.prototype.forEach.call(table.tBodies, function (body) {
    var row = body.rows[0], detail = body.rows[1];
    row.addEventListener("click", function () {
      detail.hidden = !detail.hidden;
      row.setAttribute("aria-expanded", String(!detail.hidden));
    });
  });
  document.getElementById("expand").addEventListener("click", function () {
    Array.prototype.forEach.call(table.tBodies, function (body) { body.rows[1].hidden = false; });
  });
  document.getElementById("collapse").addEventListener("click", function () {
    Array.prototype.forEach.call(table.tBodies, function (body) { body.rows[1].hidden = true; });
  });
  filter.addEventListener("input", apply);
  verdict.addEventListener("change", apply);
  apply();
})();
"""

CSS = CSS_SCREEN + PRINT_CSS
