// Modal dialogs on the native <dialog> element: role=dialog, focus kept inside, Escape closes.

import { h } from "./dom.js";

/**
 * Show a dialog titled `title` with `content` nodes; `build(close)` may return them instead, to
 * close the dialog with a value. Resolves with that value (undefined when dismissed).
 */
export function openDialog(title, build) {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
    const dialog = h("dialog", { "aria-labelledby": titleId, class: "dialog" });
    let result;
    const close = (value) => { result = value; dialog.close(); };
    dialog.append(h("h2", { id: titleId }, title), ...[build(close)].flat());
    dialog.addEventListener("close", () => { dialog.remove(); resolve(result); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Ask for a name (rename, new folder): resolves with the trimmed name, or undefined. */
export function askName(title, initial = "", submitLabel = "Save") {
  return openDialog(title, (close) => {
    const input = h("input", { type: "text", name: "name", value: initial, required: true, autocomplete: "off", maxlength: 255 });
    const form = h("form", { method: "dialog", onsubmit: (event) => {
      event.preventDefault();
      if (input.value.trim()) close(input.value.trim());
    } },
    h("label", {}, "Name", input),
    h("div", { class: "buttons" },
      h("button", { type: "submit", class: "primary" }, submitLabel),
      h("button", { type: "button", onclick: () => close(undefined) }, "Cancel")));
    queueMicrotask(() => {
      input.focus();
      const dot = initial.lastIndexOf(".");
      input.setSelectionRange(0, dot > 0 ? dot : initial.length);
    });
    return form;
  });
}

/** Ask to confirm something that cannot be undone: resolves true or false. */
export async function confirmAction(title, text, confirmLabel) {
  const answer = await openDialog(title, (close) => [
    h("p", {}, text),
    h("div", { class: "buttons" },
      h("button", { type: "button", class: "danger", onclick: () => close(true) }, confirmLabel),
      h("button", { type: "button", autofocus: true, onclick: () => close(false) }, "Cancel")),
  ]);
  return answer === true;
}
