// DICOM upload page: send the form with XMLHttpRequest so that the author sees the bytes go ("Sending 45 MB
// of 126 MB"), then show the server's answer, the import's progress page, in place of this one (it is also the
// only place the refused file names appear, so it is shown as answered rather than fetched again). Without
// JavaScript the form posts as usual and the browser shows the same answer.
import { megabytes } from "./upload-size.js";

function bindUpload(form, panel) {
  var bar = panel.querySelector("progress");
  var text = panel.querySelector(".upload-transfer-text");
  var button = form.querySelector("[type=submit]");

  function showAnswer(request, posted) {
    document.open();
    document.write(request.responseText);
    document.close();
    // After a redirect (the case's stages are locked) the address should be the page shown.
    if (request.responseURL && request.responseURL !== posted) window.history.replaceState(null, "", request.responseURL);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var posted = form.action;
    var request = new XMLHttpRequest();
    request.open("POST", posted);
    request.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable) return;
      bar.max = progress.total;
      bar.value = progress.loaded;
      text.textContent = "Sending " + megabytes(progress.loaded) + " of " + megabytes(progress.total);
    });
    request.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate: the server is reading what it received
      text.textContent = "Sent; the server is reading the files…";
    });
    request.addEventListener("load", function () {
      showAnswer(request, posted);
    });
    request.addEventListener("error", function () {
      text.textContent = "The upload stopped: the connection was lost. Choose Import to try again.";
      button.disabled = false;
    });
    panel.hidden = false;
    button.disabled = true;
    bar.value = 0;
    text.textContent = "Sending the files…";
    request.send(new FormData(form));
  });
}

var uploadForm = document.querySelector("form.dicom-upload");
var transferPanel = document.querySelector(".upload-transfer");
if (uploadForm && transferPanel && window.FormData && window.XMLHttpRequest) bindUpload(uploadForm, transferPanel);
