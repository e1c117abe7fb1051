// @mentions: whether a message calls someone by name (highlighted in render.js, notified and
// counted in the room list by chat.js).

/** Whether `text` mentions `name` as @name (whole word, any case). */
export function mentions(text, name) {
  if (!name || !text) return false;
  const lower = text.toLowerCase();
  const wanted = `@${name.toLowerCase()}`;
  for (let at = lower.indexOf(wanted); at !== -1; at = lower.indexOf(wanted, at + 1)) {
    const before = at === 0 ? " " : lower[at - 1];
    const after = lower[at + wanted.length] ?? " ";
    if (!/[\p{L}\p{N}_]/u.test(before) && !/[\p{L}\p{N}_-]/u.test(after)) return true;
  }
  return false;
}
