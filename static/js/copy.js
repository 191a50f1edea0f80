/* Copy buttons, no framework and no build step.
 *
 * Markup: <input id="tenant-url" readonly value="…"> and
 *         <button type="button" data-copy="tenant-url" hidden>Copy</button>
 * plus one <p id="copy-status" aria-live="polite"> on the page.
 *
 * The buttons are hidden until this script runs, so without JavaScript nobody sees a button
 * that does nothing; the values stay in read-only inputs that can be selected and copied.
 */
(function () {
  "use strict";

  var status = document.getElementById("copy-status");

  function announce(text) {
    if (!status) return;
    // Clear first so that saying the same thing twice is announced twice.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  // For browsers without the async clipboard API, or pages served over plain http (where it
  // is not available): select the text and use the old copy command.
  function copyBySelecting(input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value).then(
        function () { return true; },
        function () { return copyBySelecting(input); }
      );
    }
    return Promise.resolve(copyBySelecting(input));
  }

  function showCopied(button) {
    var label = button.firstChild;  // the visible text node; the hidden name stays as it is
    if (!label || label.nodeType !== Node.TEXT_NODE) return;
    label.nodeValue = "Copied";
    window.clearTimeout(button.copyTimer);
    button.copyTimer = window.setTimeout(function () { label.nodeValue = "Copy"; }, 2000);
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(input).then(function (copied) {
        if (copied) {
          showCopied(button);
          // "Copied the Tenant URL": the visible word and the button's hidden name, so a
          // screen reader says what was copied.
          announce(button.textContent.replace(/\s+/g, " ").trim());
        } else {
          copyBySelecting(input);
          announce("Could not copy. The text is selected: press Ctrl+C or Command+C to copy it.");
        }
      });
    });
  });
})();
