// Starts Swagger UI on /api/docs (a file of ours, not an inline script, so a CSP can forbid those).
// Calls made with "Try it out" carry the session's CSRF token, as the dashboard's own forms do.
window.addEventListener("load", function () {
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  window.ui = SwaggerUIBundle({
    url: document.body.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      request.headers["X-CSRF-Token"] = csrf;
      return request;
    },
  });
});
