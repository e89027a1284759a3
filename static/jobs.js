// The page of a background job (templates/jobs/show.html): asks for its status every
// 1.5 s and updates the stage and percentage (a polite live region: announced without
// interrupting, at most every 10 points or when the stage changes); reloads the page
// when the job is finished, to show the file or the error. Without JavaScript the page
// reloads itself (a <meta http-equiv="refresh"> inside <noscript>).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) return;
  var status = box.getAttribute("data-status");
  if (status === "done" || status === "failed") return;
  var url = box.getAttribute("data-status-url");
  var stageEl = box.querySelector(".job-stage");
  var percentEl = box.querySelector(".job-percent");
  var bar = document.getElementById("job-progress");
  var lastStage = stageEl ? stageEl.textContent : "";
  var lastAnnounced = bar ? Number(bar.value) : 0;
  var template = percentEl ? percentEl.textContent.replace(/[\d.,\u066b\u066c\u0660-\u0669]+/, "{n}") : "{n}%";

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(poll, 5000); return; }
        if (data.status === "done" || data.status === "failed") { window.location.reload(); return; }
        if (bar) bar.value = data.progress;
        var stageChanged = data.stage !== lastStage;
        if (stageChanged || data.progress - lastAnnounced >= 10) {
          if (stageEl) stageEl.textContent = data.stage;
          if (percentEl) percentEl.textContent = template.replace("{n}", String(data.progress));
          lastStage = data.stage;
          lastAnnounced = data.progress;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
