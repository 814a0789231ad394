// marketplaced dashboard: the only script. Asks before state-changing actions marked with
// data-confirm, and loads and filters the category trees. Everything works without it (a tree
// then shows its top level and the chosen category's branch: choose, show, and its
// subcategories are there to choose from); the CSP allows only this file.
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

// A page starts with the top of the category tree and the chosen category's branch only (the
// whole tree is thousands of entries); the first time the filter is approached, the whole tree
// is fetched from the select's data-src and put in, keeping the choice.
const loaded = new WeakMap();
const wholeTree = (tree) => {
  if (!loaded.has(tree)) {
    const src = tree.dataset.src;
    const load = !src
      ? Promise.resolve()
      : fetch(src, { credentials: "same-origin" })
          .then((answer) => (answer.ok ? answer.json() : null))
          .then((data) => {
            if (!data) {
              return; // the branch already shown stays usable
            }
            const chosen = tree.value;
            const options = [new Option("all categories", "")];
            for (const c of data.items) {
              const option = new Option("\u2003".repeat(c.depth) + c.title, String(c.id));
              option.dataset.depth = String(c.depth);
              options.push(option);
            }
            tree.replaceChildren(...options);
            tree.value = chosen;
          })
          .catch(() => undefined);
    loaded.set(tree, load);
  }
  return loaded.get(tree);
};
const treeOf = (element) => {
  const box = element instanceof Element ? element.closest(".tree-filter") : null;
  const tree = box ? box.querySelector("select.category-tree") : null;
  return tree instanceof HTMLSelectElement ? tree : null;
};
for (const kind of ["focusin", "pointerover"]) {
  document.addEventListener(kind, (event) => {
    const tree = treeOf(event.target);
    if (tree) {
      wholeTree(tree);
    }
  });
}

// Typing in a category tree's search box keeps the categories whose name contains the text,
// the categories above them (to show where they are) and those below them (a filter on a
// category includes them); while searching, the tree opens as a list of what is left.
const narrow = (tree, text) => {
  const query = foldName(text);
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
  tree.dataset.narrowed = query; // what the list now shows (for a reader, or a test)
};
document.addEventListener("input", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.classList.contains("tree-search")) {
    return;
  }
  const tree = treeOf(box);
  if (tree) {
    wholeTree(tree).then(() => narrow(tree, box.value));
  }
});
