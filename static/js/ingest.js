// DICOM import page (and the case page's import box): poll the job and move the progress bar; when it ends, swap in the report
// without reloading and name each file of it from the list the upload's answer holds (shown once,
// never stored: after a reload the files are known by their number only).
import { nameSuffix, reasonWithName } from "./ingest-names.js";

function follow(root) {
  // The upload's answer lives at the POST address; a reload should show the job, not post the files again.
  var listed = document.getElementById("import-names");
  if (listed && window.location.pathname !== root.dataset.statusUrl) window.history.replaceState(null, "", root.dataset.statusUrl);
  var names = listed ? JSON.parse(listed.textContent) : [];
  if (root.dataset.status === "done" || root.dataset.status === "failed") {
    nameFiles();
    return;
  }
  var bar = root.querySelector("progress");
  var count = root.querySelector(".import-count");
  var phase = root.querySelector(".import-phase");
  function poll() {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        bar.value = job.percent;
        bar.textContent = job.percent + "%";
        count.textContent = job.processed + " of " + job.total;
        phase.textContent = job.phase_label;
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
  function nameFiles() {
    root.querySelectorAll(".import-files [data-index]").forEach(function (item) {
      var name = nameSuffix(names, item.dataset.index);
      if (name) item.querySelector(".import-name").textContent = name;
      // A duplicate's reason points at the file it repeats: name that one too.
      var reason = item.querySelector(".import-reason");
      reason.textContent = reasonWithName(reason.textContent, names);
    });
  }
  window.setTimeout(poll, 500);
}

var importRoot = document.querySelector(".dicom-import");
if (importRoot) follow(importRoot);
