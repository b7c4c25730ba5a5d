/* Returns: keep an upload's progress bar current by polling its small JSON endpoint,
   and reload the page when the job has finished. No inline script, so a strict
   Content-Security-Policy (script-src 'self') works. */
(function () {
  "use strict";
  var panel = document.querySelector("[data-progress-url]");
  if (!panel || panel.getAttribute("data-running") !== "true") {
    return;
  }
  var url = panel.getAttribute("data-progress-url");
  var bar = panel.querySelector("progress");
  var stage = panel.querySelector("[data-role=stage]");
  var percent = panel.querySelector("[data-role=percent]");
  var hint = panel.querySelector(".app-noscript-hint");
  if (hint) {
    hint.classList.add("app-hidden");
  }
  var delay = 700;
  var failures = 0;

  function show(data) {
    bar.value = data.percent;
    bar.textContent = data.percent + "%";
    stage.textContent = data.stage || data.status_label;
    percent.textContent = data.percent + "%";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        show(data);
        if (data.running) {
          window.setTimeout(poll, delay);
          delay = Math.min(delay * 1.2, 3000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        failures += 1;
        if (failures < 10) {
          window.setTimeout(poll, 3000);
        } else if (hint) {
          hint.classList.remove("app-hidden");
        }
      });
  }

  window.setTimeout(poll, delay);
})();
