// The question page's answers table: only the columns of the type picked above it, and a
// new row's credit following its "correct" tick until the teacher types one.
// Without this script every column shows, and the server applies the same credit rule.
"use strict";

(() => {
  function creditOf(row) {
    const cell = row.querySelector("td.field-credit");
    if (!cell) return null;
    return {
      shown: cell.querySelector("input:not([type=hidden])"),
      // What the page showed: the server takes a credit equal to it as "not typed".
      initial: cell.querySelector('input[type=hidden][name^="initial-"]'),
      tick: row.querySelector("td.field-is_correct input[type=checkbox]"),
    };
  }

  function followTick(row, type) {
    const credit = creditOf(row);
    if (!credit || !credit.shown || !credit.initial) return;
    if (credit.shown.value !== credit.initial.value) return; // the teacher typed one
    let value = "";
    if (!type || type.ticks) value = credit.tick && credit.tick.checked ? "100" : "0";
    credit.shown.value = value;
    credit.initial.value = value;
  }

  // An existing row whose tick moves takes the new tick's credit while its credit is still
  // what the old tick gave (100 or 0), as the server does: re-keying a question never
  // leaves a wrong option worth full marks.
  function followMovedTick(row) {
    const credit = creditOf(row);
    if (!credit || !credit.shown || !credit.tick) return;
    const followed = credit.shown.dataset.followsTick;
    if (followed === undefined) {
      const oldTick = credit.tick.defaultChecked ? 100 : 0;
      const stored = credit.initial ? Number(credit.initial.value) : NaN;
      if (credit.shown.value === "" || Number(credit.shown.value) !== oldTick || stored !== oldTick) return;
    } else if (credit.shown.value !== followed) {
      return; // the teacher typed one since
    }
    const value = credit.tick.checked ? "100" : "0";
    credit.shown.value = value;
    credit.shown.dataset.followsTick = value;
  }

  function setUp() {
    const typeSelect = document.getElementById("id_type");
    const group = document.getElementById("choices-group");
    if (!typeSelect || !group || !typeSelect.dataset.answerColumns) return;
    const columns = JSON.parse(typeSelect.dataset.answerColumns);
    const varying = new Set(Object.values(columns).flatMap((type) => type.fields));
    const heading = document.getElementById("choices-heading");
    const everyMeaning = heading ? heading.textContent.trim() : "";

    function newRows() {
      return group.querySelectorAll("tr.form-row:not(.has_original)");
    }

    const varyingQuestionFields = new Set(
      Object.values(columns).flatMap((type) => type.question_fields || []),
    );

    // The question's own fields only some types use (a numeric answer...), and their
    // fieldset when none of its fields is left.
    function showQuestionFields(type) {
      const touched = new Set();
      for (const name of varyingQuestionFields) {
        const hidden = Boolean(type) && !(type.question_fields || []).includes(name);
        for (const row of document.querySelectorAll(`.form-row.field-${name}, .fieldBox.field-${name}`)) {
          row.hidden = hidden;
          const fieldset = row.closest("fieldset");
          if (fieldset) touched.add(fieldset);
        }
      }
      for (const fieldset of touched) {
        const rows = [...fieldset.querySelectorAll(".form-row")];
        fieldset.hidden = rows.length > 0 && rows.every((row) => row.hidden);
      }
    }

    function show() {
      const type = columns[typeSelect.value];
      showQuestionFields(type);
      for (const name of varying) {
        const hidden = Boolean(type) && !type.fields.includes(name);
        for (const cell of group.querySelectorAll(`th.column-${name}, td.field-${name}`)) {
          cell.hidden = hidden;
        }
      }
      if (heading) heading.textContent = type && type.rows ? `Answers: ${type.rows}` : everyMeaning;
      group.classList.toggle("answers-by-type", Boolean(type));
      for (const row of newRows()) followTick(row, type);
    }

    // The hint that the table scrolls sideways shows only while it does.
    const hint = document.querySelector(".answers-scroll-hint");
    const wrapper = group.querySelector(".wrapper");
    function hintWhenScrolling() {
      if (hint && wrapper) hint.hidden = wrapper.scrollWidth <= wrapper.clientWidth;
    }

    typeSelect.addEventListener("change", show);
    typeSelect.addEventListener("change", hintWhenScrolling);
    window.addEventListener("resize", hintWhenScrolling);
    group.addEventListener("change", (event) => {
      if (!event.target.matches("td.field-is_correct input")) return;
      const row = event.target.closest("tr.form-row");
      if (!row) return;
      const type = columns[typeSelect.value];
      if (!row.classList.contains("has_original")) followTick(row, type);
      else if (!type || type.ticks) followMovedTick(row);
    });
    group.addEventListener("formset:added", show);
    show();
    hintWhenScrolling();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
