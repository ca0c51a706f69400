// Progressive enhancement of the survey form: conditional questions, live progress, error focus.
// The form works without this file; the server applies the same conditions and is authoritative.
(function () {
  "use strict";
  var form = document.querySelector("form.survey-form");
  if (!form) { return; }

  function answers() {
    var result = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      if (el.type === "hidden") { return; }
      if (el.value === "") { return; }
      (result[el.name] = result[el.name] || []).push(el.value);
    });
    return result;
  }

  function holds(condition, given) {
    return Object.keys(condition).every(function (qid) {
      var chosen = given[qid] || [];
      return chosen.some(function (code) { return condition[qid].indexOf(code) !== -1; });
    });
  }

  function applyConditions() {
    // Conditions only name earlier questions, so one pass in document order settles every one.
    form.querySelectorAll("[data-show-if]").forEach(function (el) {
      var show = holds(JSON.parse(el.getAttribute("data-show-if")), answers());
      el.hidden = !show;
      el.querySelectorAll("input, textarea").forEach(function (input) { input.disabled = !show; });
    });
  }

  function updateProgress() {
    var names = {};
    form.querySelectorAll("input[type=radio], input[type=checkbox], textarea").forEach(function (el) {
      if (!el.disabled) { names[el.name] = true; }
    });
    var total = Object.keys(names).length;
    var given = answers();
    var done = Object.keys(names).filter(function (n) { return given[n]; }).length;
    var box = document.getElementById("progress");
    box.hidden = false;
    document.getElementById("progress-bar").style.width = (total ? Math.round(100 * done / total) : 0) + "%";
    var template = document.documentElement.lang === "en" ? "{done} of {total} answered" : "已回答 {done} / {total} 题";
    document.getElementById("progress-text").textContent =
      template.replace("{done}", done).replace("{total}", total);
  }

  function updateCounter(area) {
    var counter = document.getElementById(area.getAttribute("data-counter"));
    if (!counter) { return; }
    var left = area.maxLength - area.value.length;
    counter.textContent = document.documentElement.lang === "en" ? left + " characters left" : "还可输入 " + left + " 字";
  }

  form.addEventListener("change", function () { applyConditions(); updateProgress(); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") { updateCounter(event.target); }
  });
  applyConditions();
  updateProgress();
  form.querySelectorAll("textarea[data-counter]").forEach(updateCounter);

  var problem = document.getElementById("error-summary") || document.getElementById("notice");
  var firstError = form.querySelector(".has-error input, .has-error textarea");
  if (firstError) {
    firstError.closest(".q, .rating").scrollIntoView({ block: "center" });
    firstError.focus({ preventScroll: true });
  } else if (problem) {
    problem.focus();
  }
})();
