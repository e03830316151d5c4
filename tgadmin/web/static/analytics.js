// The analytics page's charts: the series the server put in #chart-data, drawn with Chart.js (npm).
(function () {
  "use strict";
  function draw() {
    var data = JSON.parse(document.getElementById("chart-data").textContent);
    var labels = JSON.parse(document.querySelector(".charts").dataset.labels);
    var blue = "#2a7ae2", green = "#2e9d5b", amber = "#e0a100", red = "#c0392b", grey = "#7f8c8d";
    function chart(id, type, datasets, extra) {
      var options = { responsive: true, maintainAspectRatio: false, animation: false,
                      plugins: { legend: { display: datasets.length > 1 } },
                      scales: { y: { beginAtZero: true } } };
      window.tgCharts = window.tgCharts || {};
      window.tgCharts[id] = new Chart(document.getElementById(id), {
        type: type, data: { labels: data.labels, datasets: datasets }, options: Object.assign(options, extra || {}) });
    }
    function line(label, values, color) {
      return { label: label, data: values, borderColor: color, backgroundColor: color, fill: false, tension: 0.2 };
    }
    chart("chart-revenue", "bar", [
      { label: labels.revenue, data: data.revenue_brl, backgroundColor: green, yAxisID: "y" },
      { label: labels.stars, data: data.revenue_xtr, backgroundColor: amber, borderColor: amber, yAxisID: "stars", type: "line" }
    ], { scales: { y: { beginAtZero: true }, stars: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } });
    chart("chart-funnel", "line", [
      line(labels.starts, data.starts, grey), line(labels.checkouts, data.purchases_created, blue),
      line(labels.paid, data.purchases_paid, green), line(labels.buyers, data.new_buyers, amber)
    ]);
    chart("chart-messages", "bar", [
      { label: labels.sent, data: data.messages_sent, backgroundColor: blue },
      { label: labels.deleted, data: data.messages_deleted, backgroundColor: grey },
      { label: labels.failed, data: data.messages_failed, backgroundColor: red }
    ]);
    chart("chart-subscriptions", "line", [
      line(labels.active, data.active_subscriptions, green), line(labels.churn, data.churn, red),
      line(labels.refunds, data.refunds, amber)
    ]);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
