// marketplaced dashboard: the only script. Asks before state-changing actions marked with
// data-confirm. Everything works without it; the CSP allows only this file.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
