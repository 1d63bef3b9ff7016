// The power chart of the station page: uPlot over the "history" and "power" events.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("power-chart");
    if (!box || !window.uPlot) return;
    var now = document.getElementById("power-now");
    var xs = [], ys = [], plot = null;
    var size = function () { return { width: Math.max(box.clientWidth, 240), height: 200 }; };
    var draw = function () {
      if (plot) { plot.setData([xs, ys]); return; }
      var s = size();
      plot = new uPlot({
        width: s.width, height: s.height,
        series: [{}, { label: box.dataset.label || "kW", stroke: "#0b6e4f", fill: "rgba(11,110,79,0.12)", width: 2 }],
        axes: [{}, { label: "kW" }],
        // The last hour, whatever the points: a single point would otherwise stretch the
        // time axis over years.
        scales: { x: { time: true, range: function (u, min, max) { return [max - 3600, max]; } }, y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
        legend: { show: false },
      }, [xs, ys], box);
    };
    var add = function (p) {
      if (xs.length && p.t <= xs[xs.length - 1]) return;
      xs.push(p.t); ys.push(p.kw);
      var cutoff = p.t - 3600;
      while (xs.length && xs[0] < cutoff) { xs.shift(); ys.shift(); }
    };
    document.addEventListener("sse:history", function (e) {
      xs = []; ys = [];
      JSON.parse(e.detail).forEach(add);
      draw();
    });
    document.addEventListener("sse:power", function (e) {
      var p = JSON.parse(e.detail);
      add(p);
      draw();
      if (now) now.textContent = p.kw.toFixed(1) + " kW";
    });
    window.addEventListener("resize", function () { if (plot) plot.setSize(size()); });
  });
})();
