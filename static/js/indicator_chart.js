/* The indicator page's SPC chart: draw the figure built server-side (embedded with
   json_script) with the plotly.js served from the Python package. No inline script, so a
   strict Content-Security-Policy (script-src 'self') works. The data table beside the
   chart holds every number, for anyone who cannot use the chart. */
(function () {
  "use strict";
  var target = document.getElementById("spc-chart");
  var source = document.getElementById("spc-chart-data");
  if (!target || !source || !window.Plotly) {
    return;
  }
  var figure = JSON.parse(source.textContent);
  window.Plotly.newPlot(target, figure.data, figure.layout, figure.config).then(
    function () {
      target.setAttribute("data-rendered", "true");
    }
  );
})();
