// Writing: the multi-line composer (Enter sends, Shift+Enter starts a new line), and editing or
// deleting one of our messages in place.
import { el } from "./render.js";

// The composer grows with its text up to this many pixels, then scrolls.
const MAX_HEIGHT_PX = 200;

/** Grow a textarea to fit its text (rows cannot follow wrapped lines, so measure). */
export function fit(area) {
  area.style.height = "auto";
  area.style.height = `${Math.min(area.scrollHeight, MAX_HEIGHT_PX)}px`;
}

/**
 * Enter submits, Shift+Enter (or Alt/Ctrl+Enter) adds a line; typing calls `onTyping`. While an
 * IME composes text, Enter belongs to the IME.
 */
export function wireComposer(area, { onSubmit, onTyping = () => {}, onEditLast = () => false }) {
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.isComposing) {
      event.preventDefault();
      onSubmit();
    } else if (event.key === "ArrowUp" && area.value === "" && onEditLast()) {
      event.preventDefault(); // Up in an empty composer edits our last message, as in Slack
    }
  });
  area.addEventListener("input", () => {
    fit(area);
    if (area.value.trim()) onTyping();
  });
}

/** Replace the text of `item` with an editor; `save(text)` returns an error or null. */
export function editInPlace(item, text, save) {
  if (item.querySelector(".editor")) return;
  const body = item.querySelector(".text");
  const form = el("form", "editor");
  const label = el("label", "visually-hidden", "Edit message");
  const area = el("textarea", "edit-input");
  area.id = `edit-${item.dataset.key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  label.htmlFor = area.id;
  area.value = text;
  area.rows = 2;
  const saveButton = el("button", "save", "Save");
  saveButton.type = "submit";
  const cancel = el("button", "cancel link-button", "Cancel");
  cancel.type = "button";
  const hint = el("span", "hint", "Enter to save, Escape to cancel");
  form.append(label, area, saveButton, cancel, hint);
  body.hidden = true;
  body.after(form);
  const close = () => {
    form.remove();
    body.hidden = false;
  };
  const submit = () => {
    const problem = save(area.value);
    if (problem) hint.textContent = problem;
    else close();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  cancel.addEventListener("click", close);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);
  return close;
}

/** Ask, in place, whether to delete the message of `item`; `confirm()` deletes it. */
export function confirmDelete(item, confirm) {
  if (item.querySelector(".confirm")) return;
  const box = el("div", "confirm");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Delete this message?");
  const yes = el("button", "confirm-delete", "Delete for everyone");
  yes.type = "button";
  const no = el("button", "cancel link-button", "Keep");
  no.type = "button";
  box.append(el("span", "question", "Delete this message?"), yes, no);
  item.append(box);
  yes.addEventListener("click", () => {
    box.remove();
    confirm();
  });
  no.addEventListener("click", () => box.remove());
  no.focus();
}
