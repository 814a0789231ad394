// marketplaced dashboard: the only script. Asks before state-changing actions marked with
// data-confirm, and filters the category trees. Everything works without it (a tree is then
// the whole indented list); the CSP allows only this file.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// How a category name is compared: case and the Uzbek apostrophe variants do not matter.
const foldName = (text) => text.trim().toLowerCase().replace(/[ʻʼ'‘’`]/g, "");

// Typing in a category tree's search box keeps the categories whose name contains the text,
// the categories above them (to show where they are) and those below them (a filter on a
// category includes them); while searching, the tree opens as a list of what is left.
document.addEventListener("input", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.classList.contains("tree-search")) {
    return;
  }
  const tree = document.getElementById(box.dataset.tree || "");
  if (!(tree instanceof HTMLSelectElement)) {
    return;
  }
  const query = foldName(box.value);
  const options = Array.from(tree.options);
  const show = options.map(() => query === "");
  const above = []; // per depth: [option index, whether it or one above it matched]
  options.forEach((option, i) => {
    if (option.dataset.depth === undefined) {
      show[i] = true; // "all categories"
      return;
    }
    const depth = Number(option.dataset.depth);
    above.length = depth;
    const inherited = depth > 0 && above[depth - 1] !== undefined && above[depth - 1][1];
    const hit = query !== "" && foldName(option.text).includes(query);
    if (hit) {
      above.forEach(([j]) => {
        show[j] = true;
      });
    }
    show[i] = show[i] || hit || inherited;
    above.push([i, hit || inherited]);
  });
  let shown = 0;
  options.forEach((option, i) => {
    option.hidden = !show[i];
    shown += show[i] ? 1 : 0;
  });
  tree.size = query === "" ? 0 : Math.min(12, Math.max(2, shown));
});
