// Live preview of the article body while typing. Everything works without this script:
// "Preview without saving" renders the same preview on the server.
(function () {
  "use strict";
  function debounce(fn, ms) {
    var timer;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }
  document.addEventListener("DOMContentLoaded", function () {
    var body = document.querySelector("textarea[data-preview]");
    var form = document.getElementById("editor");
    if (!body || !form) { return; }
    var target = document.getElementById(body.getAttribute("data-preview"));
    var csrf = form.querySelector("input[name=csrf]").value;
    var render = debounce(function () {
      var data = new URLSearchParams();
      data.set("body", body.value);
      fetch("/admin/preview/", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
        body: data.toString()
      }).then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      }).then(function (html) { target.innerHTML = html; }).catch(function () {});
    }, 400);
    body.addEventListener("input", render);
  });
})();
