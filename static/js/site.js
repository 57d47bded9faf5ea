// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // WAI-ARIA combobox: arrow keys move through the options, Enter opens one, Escape closes the list.
  function setupCombobox(input) {
    var status = document.getElementById("search-status") || document.getElementById("announce");

    function listbox() { return document.getElementById(input.getAttribute("aria-controls")); }
    function options() {
      var box = listbox();
      return box && !box.hidden ? Array.prototype.slice.call(box.querySelectorAll("[role=option]")) : [];
    }
    function activate(index) {
      var opts = options();
      opts.forEach(function (opt, i) { opt.setAttribute("aria-selected", i === index ? "true" : "false"); });
      if (index >= 0 && opts[index]) {
        input.setAttribute("aria-activedescendant", opts[index].id);
        opts[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function current() {
      return options().findIndex(function (opt) { return opt.getAttribute("aria-selected") === "true"; });
    }
    function close() {
      var box = listbox();
      if (box && box.getAttribute("role") === "listbox") { box.hidden = true; }
      input.setAttribute("aria-expanded", "false");
      activate(-1);
    }

    input.addEventListener("keydown", function (event) {
      var opts = options();
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!opts.length) { return; }
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        activate((current() + step + opts.length) % opts.length);
      } else if (event.key === "Enter" && current() >= 0) {
        event.preventDefault();
        var option = opts[current()];
        var choice = option.matches("a, button") ? option : option.querySelector("a, button");
        if (choice) { choice.click(); }
      } else if (event.key === "Escape") {
        close();
      }
    });

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (!event.detail.target || event.detail.target.id !== input.getAttribute("aria-controls")) { return; }
      var box = listbox();
      var count = options().length;
      input.setAttribute("aria-expanded", count ? "true" : "false");
      activate(-1);
      if (status) {
        status.textContent = box && box.getAttribute("role") !== "listbox" ? box.textContent.trim()
          : count === 1 ? "1 medicine found." : count + " medicines found.";
      }
    });

    document.addEventListener("click", function (event) {
      if (!input.closest("[data-combobox]").parentNode.contains(event.target)) { close(); }
    });
  }

  // After an htmx update of the list: clear the add box on success, and put focus somewhere sensible
  // (the removed item's button is gone, so focus moves to the list heading).
  function setupListUpdates() {
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-reset-on-success]");
      if (form && event.detail.successful && event.detail.elt === form) {
        form.reset();
        var results = document.getElementById("add-results");
        if (results && results.getAttribute("role") === "listbox") { results.hidden = true; }
      }
    });
    document.body.addEventListener("htmx:afterSettle", function (event) {
      if (!event.detail.target || event.detail.target.id !== "medlist") { return; }
      var active = document.activeElement;
      if (active && active !== document.body && document.body.contains(active)) { return; }
      var heading = document.getElementById("list-heading");
      if (heading) { heading.focus(); }
    });
  }

  // The provider sheet's Print button exists only with this script; without it the page says to use the browser's Print.
  function setupPrintButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-print]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
      Array.prototype.forEach.call(document.querySelectorAll("[data-print-help]"), function (help) { help.hidden = true; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[role=combobox]"), setupCombobox);
    setupListUpdates();
    setupPrintButtons();
  });
})();
