// Case page: reveal without a page load, and a lightbox for the images.
(function () {
  "use strict";

  function bindLightbox(root) {
    var box = document.querySelector(".lightbox");
    if (!box) return;
    var img = box.querySelector("img");
    var caption = box.querySelector("figcaption");
    var group = [];
    var index = 0;
    var opener = null;

    var alt = "";

    function show(i) {
      index = (i + group.length) % group.length;
      var link = group[index];
      img.src = link.href;
      var thumb = link.querySelector("img");
      img.alt = thumb ? thumb.alt : alt;
      caption.textContent = link.dataset.caption || "";
      box.querySelector(".lightbox-prev").hidden = group.length < 2;
      box.querySelector(".lightbox-next").hidden = group.length < 2;
    }
    function open(link) {
      opener = link;
      var selector = '.lightbox-link[data-group="' + link.dataset.group + '"]';
      // A stack lists every slice in hidden links; the page shows only its middle slice.
      var members = document.querySelectorAll(selector + "[data-stack-member]");
      group = Array.prototype.slice.call(members.length ? members : document.querySelectorAll(selector));
      var thumb = link.querySelector("img");
      alt = thumb ? thumb.alt : "";
      var start = group.findIndex(function (member) { return member.href === link.href; });
      box.hidden = false;
      show(start >= 0 ? start : 0);
      box.querySelector(".lightbox-close").focus();
    }
    function close() {
      box.hidden = true;
      img.removeAttribute("src");
      if (opener) opener.focus();
    }
    root.querySelectorAll(".lightbox-link").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        open(link);
      });
    });
    if (box.dataset.bound) return;
    box.dataset.bound = "1";
    box.querySelector(".lightbox-close").addEventListener("click", close);
    box.querySelector(".lightbox-prev").addEventListener("click", function () { show(index - 1); });
    box.querySelector(".lightbox-next").addEventListener("click", function () { show(index + 1); });
    box.addEventListener("click", function (event) { if (event.target === box) close(); });
    box.addEventListener("wheel", function (event) {
      event.preventDefault();
      show(index + (event.deltaY > 0 ? 1 : -1));
    }, { passive: false });
    document.addEventListener("keydown", function (event) {
      if (box.hidden) return;
      if (event.key === "Escape") close();
      if (event.key === "ArrowLeft") show(index - 1);
      if (event.key === "ArrowRight") show(index + 1);
    });
  }

  function bindReveal() {
    var form = document.querySelector("form[data-reveal]");
    if (!form || !window.fetch) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var error = form.querySelector(".reveal-error");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      }).then(function (response) {
        return response.text().then(function (text) {
          if (!response.ok) {
            var plain = (response.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
            throw new Error(plain ? text : "The diagnosis could not be shown (error " + response.status + "). Reload the page and try again.");
          }
          return text;
        });
      }).then(function (html) {
        var slot = document.getElementById("answer-slot");
        slot.innerHTML = html;
        bindLightbox(slot);
        var answer = document.getElementById("answer");
        if (answer) answer.focus();
      }).catch(function (problem) {
        error.textContent = problem.message;
        error.hidden = false;
        button.disabled = false;
      });
    });
  }

  bindLightbox(document);
  bindReveal();
})();
