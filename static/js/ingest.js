// DICOM import page: poll the job and move the progress bar; when it ends, swap in the report
// without reloading, so the list of refused files (shown once, never stored) stays on screen.
(function () {
  "use strict";
  var root = document.querySelector(".dicom-import");
  if (!root) return;
  // The upload's answer lives at the POST address; a reload should show the job, not post the files again.
  if (window.location.pathname !== root.dataset.statusUrl) window.history.replaceState(null, "", root.dataset.statusUrl);
  if (root.dataset.status === "done" || root.dataset.status === "failed") {
    nameFiles();
    return;
  }
  var bar = root.querySelector("progress");
  var count = root.querySelector(".import-count");
  function poll() {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        bar.value = job.percent;
        bar.textContent = job.percent + "%";
        count.textContent = job.processed + " of " + job.total;
        if (job.status === "done" || job.status === "failed") showReport();
        else window.setTimeout(poll, 800);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  function showReport() {
    fetch(root.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".dicom-import");
        if (fresh) root.innerHTML = fresh.innerHTML;
        nameFiles();
      });
  }
  // The upload's own answer carries its file names (never stored): put each beside its place in the report.
  function nameFiles() {
    var list = document.getElementById("upload-names");
    if (!list) return;
    var names = JSON.parse(list.textContent);
    root.querySelectorAll("[data-file-index]").forEach(function (item) {
      var name = names[item.dataset.fileIndex];
      if (name) item.querySelector(".file-name").textContent = " (" + name + ")";
    });
  }
  window.setTimeout(poll, 500);
})();
