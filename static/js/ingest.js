// DICOM import page: poll the job and move the progress bar; reload when it ends.
(function () {
  "use strict";
  var root = document.querySelector(".dicom-import");
  if (!root || root.dataset.status === "done" || root.dataset.status === "failed") return;
  var bar = root.querySelector("progress");
  var count = root.querySelector(".import-count");
  function poll() {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        bar.value = job.percent;
        bar.textContent = job.percent + "%";
        count.textContent = job.processed + " of " + job.total;
        if (job.status === "done" || job.status === "failed") window.location.reload();
        else window.setTimeout(poll, 800);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
