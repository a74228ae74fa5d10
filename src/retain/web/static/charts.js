// Draws every chart of the page from the figure JSON embedded next to it (the report's Plotly figures).
"use strict";
document.querySelectorAll("div.chart[data-chart]").forEach(function (div) {
  var source = document.getElementById(div.id + "-data");
  if (!source) { return; }
  var figure = JSON.parse(source.textContent);
  var layout = Object.assign({}, figure.layout, { autosize: true });
  delete layout.width;
  Plotly.newPlot(div, figure.data, layout, { displaylogo: false, responsive: true });
});
