// Case page: the differential's suggestions, reveal without a page load, and the image viewer.
import { Viewer, stateFromQuery, supported } from "./viewer/viewer.js";

// The viewer opens in a dialog over the case page, or fills a page of its own; either way it asks the
// server what it may show this reader now, and asks again after a reveal.
function bindViewer() {
  var root = document.querySelector("[data-viewer]:not([data-pick])");
  if (!root || !supported) return { revealed: function () {} };
  var viewer = new Viewer(root);
  var dialog = root.closest("dialog");
  var data = null;
  var opener = null;

  function load() {
    if (!data) {
      data = fetch(root.dataset.dataUrl, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("viewer data " + response.status);
        return response.json();
      });
    }
    return data;
  }
  function open(state, link) {
    opener = link || null;
    if (dialog && !dialog.open) dialog.showModal();
    load().then(function (content) { viewer.open(content, state); }).catch(function () {
      data = null;
      viewer.say("The images could not be loaded. Reload the page and try again.");
    });
  }

  if (dialog) {
    root.querySelector(".viewer-close").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      viewer.close();
      if (document.fullscreenElement) document.exitFullscreen();
      if (opener) opener.focus();
    });
    document.addEventListener("click", function (event) {
      var link = event.target.closest(".viewer-link");
      if (link) {
        event.preventDefault();
        open({ series: link.dataset.series, image: link.dataset.image }, link);
        return;
      }
      // Ctrl-, Shift- or middle-click still opens a new tab or window.
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      link = event.target.closest(".comment-body a[href], a.finding-link");
      var position = link && positionInCase(link, root.dataset.caseUrl);
      if (position) {
        event.preventDefault();
        open(position, link);
      }
    });
    bindCitations(root, viewer, open, function () { dialog.close(); });
    bindFindingLinks(root, viewer, open, function () { dialog.close(); });
  }
  var linked = stateFromQuery(window.location.search);
  if (linked || !dialog) open(linked || {});
  return { revealed: function () { data = null; } };
}

// A link in a comment to this case's page with a view in its query opens the viewer here, at that view.
function positionInCase(link, caseUrl) {
  var url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin || url.pathname !== caseUrl) return null;
  return stateFromQuery(url.search);
}

// "Point at an image" beside a comment's text: the viewer opens, and "Insert in comment" writes a Markdown
// link to the view shown at the cursor of that text.
function bindCitations(root, viewer, open, close) {
  var insert = root.querySelector('[data-action="cite"]');
  if (!insert) return;
  var target = null;
  var typedIn = null; // the text box last focused: its cursor is where the link goes; otherwise at the end
  var lastState = {};
  document.addEventListener("focusin", function (event) {
    if (event.target.matches(".comment-form textarea")) typedIn = event.target;
  });
  document.querySelectorAll(".comment-cite").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      target = button.form.querySelector("textarea");
      insert.hidden = false;
      open(lastState, target);
    });
  });
  root.closest("dialog").addEventListener("close", function () { insert.hidden = true; });
  insert.addEventListener("click", function () {
    var citation = viewer.citation();
    if (!citation) {
      viewer.say("Wait for an image to show, then insert it.");
      return;
    }
    lastState = citation.state;
    var start = target === typedIn ? target.selectionStart : target.value.length;
    var end = target === typedIn ? target.selectionEnd : start;
    var before = target.value.slice(0, start);
    var text = (before && !/\s$/.test(before) ? " " : "") + citation.markdown + " ";
    target.setRangeText(text, start, end, "end");
    close();
  });
}

// An author's "Link a view" beside a finding: the viewer opens (on the finding's link, if it has one), and
// "Link current view" stores the stage, slice, window and the slice's arrow on the finding.
function bindFindingLinks(root, viewer, open, close) {
  var save = root.querySelector('[data-action="link-finding"]');
  if (!save) return;
  var button = null;
  document.addEventListener("click", function (event) {
    var pressed = event.target.closest(".finding-set-link");
    if (!pressed) return;
    button = pressed;
    save.hidden = false;
    open(stateFromQuery(button.dataset.query || "") || {}, button);
  });
  root.closest("dialog").addEventListener("close", function () { save.hidden = true; });
  save.addEventListener("click", function () {
    var state = viewer.linkState();
    if (!state || !button) return;
    var body = new FormData();
    Object.keys(state).forEach(function (key) { body.append(key, state[key]); });
    body.append("csrfmiddlewaretoken", csrfToken());
    fetch(button.dataset.url, { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) return response.text().then(function (text) { throw new Error(text); });
      return response.json();
    }).then(function (result) {
      showFindingLink(button, result.url);
      close();
    }).catch(function (problem) {
      viewer.say("The link was not saved: " + (problem.message || "try again."));
    });
  });
}

// The finding's "Show on the image" link, made or moved to the view just stored.
function showFindingLink(button, url) {
  var link = button.parentNode.querySelector("a.finding-link");
  if (!link) {
    link = document.createElement("a");
    link.className = "finding-link";
    link.textContent = "Show on the image";
    button.parentNode.insertBefore(link, button);
    button.parentNode.insertBefore(document.createTextNode(" "), button);
  }
  link.href = url;
  button.dataset.query = new URL(url, window.location.href).search;
}

function csrfToken() {
  var input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// Post a form by fetch with its button off meanwhile; read ("text" or "json") reads a success for done. A
// refusal shows the server's plain-text reason, else failure(status), beside the form, the button on again.
function submitByFetch(form, read, failure, done) {
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
      if (response.ok) return response[read]();
      return response.text().then(function (text) {
        var plain = (response.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
        throw new Error(plain ? text : failure(response.status));
      });
    }).then(done).catch(function (problem) {
      error.textContent = problem.message;
      error.hidden = false;
      button.disabled = false;
    });
  });
}

function bindReveal(viewer) {
  var form = document.querySelector("form[data-reveal]");
  if (!form || !window.fetch) return;
  var failure = function (status) {
    return "The diagnosis could not be shown (error " + status + "). Reload the page and try again.";
  };
  submitByFetch(form, "text", failure, function (html) {
    var slot = document.getElementById("answer-slot");
    slot.innerHTML = html;
    viewer.revealed();
    var answer = document.getElementById("answer");
    if (answer) answer.focus();
  });
}

var GATE_SCROLL = "gate-answered-scroll-to";

// After a gate's answer the page is loaded again: open it at the stages the answer brought.
function scrollToSentStages() {
  var id = sessionStorage.getItem(GATE_SCROLL);
  if (!id) return;
  sessionStorage.removeItem(GATE_SCROLL);
  var target = document.getElementById(id);
  if (target) target.scrollIntoView();
}

// A gate's answer: kept by the server, which answers with the case page to load again (now holding the stages the
// gate held back); a refusal is shown beside the form, with what the reader typed left in place.
function bindGate() {
  var form = document.querySelector("form[data-gate]");
  if (!form || !window.fetch) return;
  var failure = function (status) {
    return "Your answer could not be kept (error " + status + "). Try again.";
  };
  submitByFetch(form, "json", failure, function (result) {
    var target = new URL(result.url, window.location.href);
    if (target.pathname + target.search !== window.location.pathname + window.location.search) {
      window.location.assign(target.href);
      return;
    }
    // The same page: load it again (it now holds the stages just sent) and open it at the first of them.
    sessionStorage.setItem(GATE_SCROLL, target.hash.slice(1));
    history.scrollRestoration = "manual";
    window.location.reload();
  });
}

// The differential's boxes suggest the site's topic names: one list, the same on every case (so it says nothing
// of this one), fetched when a box is first focused.
function bindDifferentialNames() {
  var list = document.getElementById("differential-names");
  if (!list || !window.fetch) return;
  var asked = false;
  list.closest("form").addEventListener("focusin", function (event) {
    if (asked || event.target.getAttribute("list") !== list.id) return;
    asked = true;
    fetch(list.dataset.src, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("topic names " + response.status);
      return response.json();
    }).then(function (data) {
      data.names.forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        list.appendChild(option);
      });
    }).catch(function () {
      asked = false; // typing still works; the next focus asks again
    });
  });
}

bindDifferentialNames();
scrollToSentStages();
bindGate();
bindReveal(bindViewer());
