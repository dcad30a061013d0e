// The panel's dialogs: the sensitive-data warning (following the action
// the brand's guard policy gives: warn, confirm, block or redact), the
// safety-number comparison, and the erasure confirmation.
import { h, modal } from './dom.js';

// The text with each finding's span marked (start/end: offsets in the
// JavaScript string, as the engine's scan gives them).
function marked(text, findings) {
  const out = h('div', { class: 'preview' });
  let at = 0;
  for (const f of [...findings].sort((a, b) => a.start - b.start)) {
    if (f.start < at)
      continue;
    out.append(text.slice(at, f.start), h('mark', { text: text.slice(f.start, f.end) }));
    at = f.end;
  }
  out.append(text.slice(at));
  return out;
}

function categories(t, findings) {
  return [...new Set(findings.map((f) => f.category))].map((c) => t.category(c)).join(', ');
}

// GDPR art. 9(2)(a): one box for each special category of needed, none
// ticked; sending is possible only once the customer ticked every one.
// Resolves with {text, confirmed, special: {categories, wording}}, the
// wording being what the customer read, or null to go back to editing.
function specialDialog(t, brand, text, verdict, needed) {
  const findings = verdict.findings || [];
  const send = verdict.redacted !== undefined ? verdict.redacted : text;
  return modal('special-heading', (close) => {
    const help = t('specialHelp', { brand });
    const boxes = needed.map((c) => h('input', { type: 'checkbox', id: `special-${c}`,
      onchange: () => { button.disabled = !boxes.every((b) => b.checked); } }));
    const labels = needed.map((c) => t('specialConsent', { category: t.category(c), brand }));
    const button = h('button', { class: 'btn', type: 'button', text: t('sendWithConsent'), disabled: true,
      onclick: () => close({ text: send, confirmed: true,
        special: { categories: needed, wording: [help, ...labels].join('\n') } }) });
    const edit = h('button', { class: 'btn secondary', type: 'button', text: t('edit'), onclick: () => close(null) });
    edit.dataset.initialFocus = '';
    return [
      h('h2', { id: 'special-heading', text: t('specialHeading') }),
      h('p', { text: help }),
      marked(text, findings),
      ...needed.map((c, i) => h('div', { class: 'consent-box' }, boxes[i],
        h('label', { for: `special-${c}`, text: labels[i] }))),
      h('div', { class: 'actions' }, button, edit),
    ];
  });
}

// Resolves with the text to send, {text, confirmed} for a confirmation,
// {text, confirmed, special} with the customer's explicit consent to the
// special categories of needed (not consented to yet in this conversation),
// or null to go back to editing.
export function guardDialog(t, brand, text, verdict, needed) {
  const findings = verdict.findings || [];
  if (verdict.action !== 'block' && needed && needed.length)
    return specialDialog(t, brand, text, verdict, needed);
  return modal('guard-heading', (close) => {
    const edit = h('button', { class: 'btn secondary', type: 'button', text: t('edit'), onclick: () => close(null) });
    const parts = [
      h('h2', { id: 'guard-heading', text: t('guardHeading') }),
      h('p', { text: t('guardFound', { categories: categories(t, findings) }) }),
    ];
    const actions = h('div', { class: 'actions' });
    switch (verdict.action) {
    case 'block':
      parts.push(h('p', { text: t('guardBlock', { brand }) }), marked(text, findings));
      actions.append(edit);
      break;
    case 'redact':
      parts.push(h('p', { text: t('guardRedact') }), h('div', { class: 'preview', text: verdict.redacted }));
      actions.append(h('button', { class: 'btn', type: 'button', text: t('sendRedacted'),
        onclick: () => close({ text: verdict.redacted }) }), edit);
      break;
    case 'confirm':
      // An identifier the brand wants confirmed (special categories: specialDialog).
      parts.push(h('p', { text: t('guardConfirm', { brand }) }), marked(text, findings));
      actions.append(h('button', { class: 'btn', type: 'button', text: t('sendAnyway'),
        onclick: () => close({ text, confirmed: true }) }), edit);
      break;
    default:
      parts.push(h('p', { text: t('guardWarn') }), marked(text, findings));
      actions.append(h('button', { class: 'btn', type: 'button', text: t('sendAnyway'),
        onclick: () => close({ text }) }), edit);
    }
    // Editing is the safe choice: it has the focus first.
    edit.dataset.initialFocus = '';
    parts.push(actions);
    return parts;
  });
}

function groups(list, label) {
  return h('div', { class: 'fingerprints', role: 'group', 'aria-label': label },
    (list || []).map((g) => h('span', { text: g })));
}

// Resolves with true (they match), false (they do not) or null (cancel).
export function verifyDialog(t, name, fingerprints) {
  return modal('verify-heading', (close) => [
    h('h2', { id: 'verify-heading', text: t('verifyHeading') }),
    h('p', { text: t('verifyHelp', { name }) }),
    h('h3', { text: t('verifyMine') }), groups(fingerprints.mine, t('verifyMine')),
    h('h3', { text: t('verifyAgent', { name }) }), groups(fingerprints.agent, t('verifyAgent', { name })),
    h('div', { class: 'actions' },
      h('button', { class: 'btn', type: 'button', text: t('verifyMatch'), onclick: () => close(true) }),
      h('button', { class: 'btn secondary', type: 'button', text: t('verifyNoMatch'), onclick: () => close(false) }),
      h('button', { class: 'btn secondary', type: 'button', text: t('cancel'), 'data-initial-focus': true,
        onclick: () => close(null) })),
  ]);
}

// Resolves with true when the customer confirms the erasure.
export function eraseDialog(t) {
  return modal('erase-heading', (close) => [
    h('h2', { id: 'erase-heading', text: t('eraseHeading') }),
    h('p', { text: t('eraseHelp') }),
    h('div', { class: 'actions' },
      h('button', { class: 'btn danger', type: 'button', text: t('eraseConfirm'), onclick: () => close(true) }),
      h('button', { class: 'btn secondary', type: 'button', text: t('cancel'), 'data-initial-focus': true,
        onclick: () => close(false) })),
  ]);
}
