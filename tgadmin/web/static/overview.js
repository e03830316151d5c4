// The overview's charts: the series the server put in #chart-data, drawn with Chart.js (npm).
(function () {
  "use strict";
  function draw() {
    var data = JSON.parse(document.getElementById("chart-data").textContent);
    var labels = JSON.parse(document.querySelector(".charts").dataset.labels);
    var blue = "#2a7ae2", green = "#2e9d5b", amber = "#e0a100", red = "#c0392b";
    function chart(id, type, x, datasets, extra) {
      var options = { responsive: true, maintainAspectRatio: false, animation: false,
                      plugins: { legend: { display: datasets.length > 1 } },
                      scales: { y: { beginAtZero: true } } };
      window.tgCharts = window.tgCharts || {};
      window.tgCharts[id] = new Chart(document.getElementById(id), {
        type: type, data: { labels: x, datasets: datasets }, options: Object.assign(options, extra || {}) });
    }
    chart("chart-revenue", "bar", data.revenue.labels, [
      { label: labels.revenue, data: data.revenue.values, backgroundColor: green, yAxisID: "y" },
      { label: labels.stars, data: data.revenue.stars, backgroundColor: amber, yAxisID: "stars", type: "line" }
    ], { scales: { y: { beginAtZero: true }, stars: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } });
    chart("chart-purchases", "bar", data.purchases.labels,
          [{ label: labels.purchases, data: data.purchases.values, backgroundColor: blue }]);
    chart("chart-posts", "line", data.posts.labels,
          [{ label: labels.posts, data: data.posts.values, borderColor: blue, fill: false, tension: 0.2 }]);
    chart("chart-buyers", "line", data.buyers.labels, [
      { label: labels.buyers, data: data.buyers.values, borderColor: green, tension: 0.2 },
      { label: labels.deactivated, data: data.deactivated.values, borderColor: red, tension: 0.2 }
    ]);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
