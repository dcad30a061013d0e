// Small DOM helpers for the panel. Text always goes in through
// textContent (never innerHTML): a message or a notice cannot inject markup.

// h('button', {class: 'btn', onclick: fn, 'aria-label': '…'}, 'text', child…)
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false)
      continue;
    if (name.startsWith('on') && typeof value === 'function')
      el.addEventListener(name.slice(2), value);
    else if (name === 'class')
      el.className = value;
    else if (name === 'text')
      el.textContent = value;
    else if (name in el && !name.includes('-') && typeof value !== 'string')
      el[name] = value;
    else
      el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false)
      continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// A modal dialog (<dialog>: the rest of the panel is inert, Escape
// cancels). Focus goes to the first control and, once closed, back to
// where it was. build(close) returns the dialog's content; close(value)
// resolves the returned promise (Escape resolves it with null).
export function modal(labelId, build) {
  const previous = document.activeElement;
  return new Promise((resolve) => {
    let done = false;
    const dialog = h('dialog', { 'aria-labelledby': labelId, 'aria-modal': 'true' });
    const close = (value) => {
      if (done)
        return;
      done = true;
      dialog.close();
      dialog.remove();
      if (previous && previous.isConnected && typeof previous.focus === 'function')
        previous.focus();
      resolve(value);
    };
    dialog.append(...[].concat(build(close)));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector('[data-initial-focus]') || dialog.querySelector('input, button, textarea');
    if (first)
      first.focus();
  });
}

// Offers text as a file download (the panel's own origin; nothing leaves the device).
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
