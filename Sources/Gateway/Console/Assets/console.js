// The Faasten console's script: enhancements only. Every page works without it (plain
// forms and links); with it, uploads show their progress and a running invocation is
// followed live. It writes text with textContent only, and is loaded from this file
// because the Content-Security-Policy allows no inline script.
"use strict";

(function () {
  function byId(id) {
    return document.getElementById(id);
  }

  // The reason (and what to do) from the console's JSON answer to an upload.
  function describeProblem(text) {
    try {
      var answer = JSON.parse(text);
      var problem = answer.problem || {};
      var lines = [problem.reason || "the upload failed"].concat(problem.details || []);
      if (problem.next) lines.push("what to do: " + problem.next);
      return lines.join("\n");
    } catch (error) {
      return "the upload failed";
    }
  }

  // Upload with progress: the file's bytes go as they are (the server streams them into
  // the blob store) instead of as a multipart form, and a progress bar shows how far.
  function enhanceUpload() {
    var form = byId("upload-form");
    if (!form || typeof XMLHttpRequest === "undefined") return;
    form.addEventListener("submit", function (event) {
      var input = byId("upload-file");
      if (!input.files || input.files.length !== 1) return;
      event.preventDefault();
      var file = input.files[0];
      var name = byId("upload-name").value.trim() || file.name;
      var query = new URLSearchParams({
        parent: form.elements.namedItem("parent").value,
        name: name,
        label: byId("upload-label").value.trim(),
      });
      var progress = byId("upload-progress");
      var status = byId("upload-status");
      var button = byId("upload-submit");
      var request = new XMLHttpRequest();
      request.open("PUT", "/console/fs/upload?" + query.toString());
      request.setRequestHeader("Content-Type", "application/octet-stream");
      request.setRequestHeader("X-Faasten-Console-Form", form.elements.namedItem("csrf").value);
      progress.hidden = false;
      progress.value = 0;
      button.disabled = true;
      status.textContent = "uploading " + name + "…";
      request.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        progress.value = Math.round((100 * e.loaded) / e.total);
        status.textContent = "uploading " + name + ": " + progress.value + "%";
      });
      request.addEventListener("load", function () {
        button.disabled = false;
        if (request.status >= 200 && request.status < 300) {
          progress.value = 100;
          status.textContent = "uploaded " + name;
          var answer = JSON.parse(request.responseText);
          window.location.assign(answer.location);
        } else {
          status.textContent = describeProblem(request.responseText);
        }
      });
      request.addEventListener("error", function () {
        button.disabled = false;
        status.textContent = "the upload did not reach the server";
      });
      request.send(file);
    });
  }

  // The invoke form's input must be JSON (or empty): say so before sending.
  function checkInvokeInput() {
    var form = byId("invoke-form");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      var input = byId("invoke-input");
      if (input.value.trim() === "") return;
      try {
        JSON.parse(input.value);
        input.setCustomValidity("");
      } catch (error) {
        event.preventDefault();
        input.setCustomValidity("the input is not JSON: " + error.message);
        input.reportValidity();
        input.addEventListener("input", function () { input.setCustomValidity(""); }, { once: true });
      }
    });
  }

  // A queued or running invocation: fetch its page again each second and put the new
  // state, timings and logs in place, until it has finished.
  function followInvocation() {
    var section = byId("invocation");
    if (!section || section.getAttribute("data-live") !== "true") return;
    var poll = function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("invocation");
          var current = byId("invocation");
          if (!fresh || !current) return;
          current.replaceWith(document.importNode(fresh, true));
          if (fresh.getAttribute("data-live") === "true") window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceUpload();
    checkInvokeInput();
    followInvocation();
  });
})();
