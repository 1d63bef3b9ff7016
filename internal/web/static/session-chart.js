// Charts of the session and energy pages (uPlot), drawn from the JSON in their data-points
// attribute, and the print button of a receipt. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  var width = function (box) { return Math.max(box.clientWidth, 260); };
  var session = function (box) {
    var d = JSON.parse(box.dataset.points || "{}");
    if (!d.t || !d.t.length) { box.textContent = "—"; return; }
    var plot = new uPlot({
      width: width(box), height: 220,
      series: [{},
        { label: box.dataset.kw || "kW", stroke: "#0b6e4f", width: 2, scale: "kw", spanGaps: true },
        { label: box.dataset.kwh || "kWh", stroke: "#2b59c3", width: 2, scale: "kwh", spanGaps: true }],
      axes: [{}, { scale: "kw", label: "kW" }, { scale: "kwh", label: "kWh", side: 1, grid: { show: false } }],
      scales: { kw: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
    }, [d.t, d.kw, d.kwh], box);
    window.addEventListener("resize", function () { plot.setSize({ width: width(box), height: 220 }); });
  };
  var energy = function (box) {
    var d = JSON.parse(box.dataset.points || "{}");
    if (!d.t || !d.t.length) return;
    var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 40] }) : null;
    var plot = new uPlot({
      width: width(box), height: 240,
      series: [{},
        { label: box.dataset.ht || "HT", stroke: "#c2410c", fill: "rgba(194,65,12,0.6)", paths: bars, points: { show: false } },
        { label: box.dataset.nt || "NT", stroke: "#2b59c3", fill: "rgba(43,89,195,0.6)", paths: bars, points: { show: false } }],
      axes: [{}, { label: "kWh" }],
    }, [d.t, d.ht, d.nt], box);
    window.addEventListener("resize", function () { plot.setSize({ width: width(box), height: 240 }); });
  };
  document.addEventListener("DOMContentLoaded", function () {
    var s = document.getElementById("session-chart");
    if (s && window.uPlot) session(s);
    var e = document.getElementById("energy-chart");
    if (e && window.uPlot) energy(e);
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-print]")) window.print();
  });
})();
