// The first screen: the brand's privacy notice, verified by the engine
// against the brand key pinned in the page, and the consent choice, one
// choice per optional purpose (required purposes are listed, not asked),
// each shown by the sentence the brand wrote for it, else by its name.
// Nothing is accepted by default. Resolves with the accepted purpose
// names once the engine recorded the consent.
import { h } from './dom.js';

export function brandName(notice) {
  return (notice && (notice.brandName || notice.brandId)) || '';
}

function purposeList(t, purposes) {
  const required = purposes.filter((p) => p.required);
  const optional = purposes.filter((p) => !p.required);
  const boxes = optional.map((p) => h('input', { type: 'checkbox', name: 'purpose', value: p.name }));
  const fieldset = h('fieldset', { class: 'purposes' },
    h('legend', { text: t('purposesHeading') }),
    required.map((p) => h('label', {},
      h('input', { type: 'checkbox', checked: true, disabled: true, 'aria-describedby': 'required-note' }),
      h('span', { text: t('purposeRequired', { purpose: p.description || p.name }) }))),
    optional.map((p, i) => h('label', {}, boxes[i],
      h('span', { text: t('purposeOptional', { purpose: p.description || p.name }) }))));
  const accepted = () => required.map((p) => p.name)
    .concat(boxes.filter((b) => b.checked).map((b) => b.value));
  return { fieldset, accepted };
}

function noticeSection(main, t) {
  main.replaceChildren();
  const heading = h('h2', { id: 'notice-heading', tabindex: '-1', text: t('noticeHeading') });
  const section = h('section', { class: 'notice', 'aria-labelledby': 'notice-heading' }, heading);
  main.append(section);
  return { heading, section };
}

// What happens first when the page shipped no notice: the relay is asked
// for the brand's signed directory. ctx: {t, relay, brandId}.
export function showFetching(main, ctx) {
  const { heading, section } = noticeSection(main, ctx.t);
  section.append(
    h('p', { text: ctx.t('noticeFetch', { brand: ctx.brandId, relay: ctx.relay }) }),
    h('p', { class: 'small', role: 'status', text: ctx.t('noticeWaiting') }));
  return heading;
}

// Shows the notice in `main`; ctx: {engine, t, relay, brandId, onDone}.
export function showNotice(main, ctx) {
  const { engine, t } = ctx;
  const notice = engine.notice();
  if (!notice) {
    // The page shipped no directory: the engine fetches it from the relay.
    const heading = showFetching(main, ctx);
    const off = engine.subscribe((e) => {
      if (e.type === 'notice' && engine.notice()) {
        off();
        const hadFocus = main.contains(document.activeElement) || document.activeElement === document.body;
        const next = showNotice(main, ctx);
        if (hadFocus)
          next.focus();
      }
    });
    return heading;
  }
  const { heading, section } = noticeSection(main, t);

  const purposes = purposeList(t, notice.purposes || []);
  const error = h('p', { class: 'failure', role: 'alert' });
  const progress = h('p', { class: 'small', role: 'status' });
  const accept = h('button', { class: 'btn', type: 'button', text: t('accept') });
  const decline = h('button', { class: 'btn secondary', type: 'button', text: t('decline') });
  section.append(
    h('p', { class: 'small', text: t('noticeVerified', { brand: brandName(notice), version: notice.version }) }),
    h('div', { class: 'notice-text', tabindex: '0', role: 'document', 'aria-label': t('noticeHeading'),
      text: notice.text }),
    purposes.fieldset,
    h('p', { class: 'small', id: 'required-note', text: t('noticeFirst') }),
    h('div', { class: 'actions' }, accept, decline),
    progress, error);

  accept.addEventListener('click', async () => {
    accept.disabled = decline.disabled = true;
    error.textContent = '';
    // The engine checks the notice with the relay before it keeps anything.
    progress.textContent = t('consenting', { relay: ctx.relay });
    try {
      await engine.consent(purposes.accepted());
      ctx.onDone();
    } catch (e) {
      progress.textContent = '';
      if (e.code === 'notice-changed') {
        // The relay holds a newer notice than the one read: show that one.
        const next = showNotice(main, ctx);
        main.querySelector('.failure').textContent = t('noticeChanged');
        next.focus();
        return;
      }
      error.textContent = t('failed', { reason: e.message || e });
      accept.disabled = decline.disabled = false;
    }
  });
  decline.addEventListener('click', () => {
    const again = h('button', { class: 'btn secondary', type: 'button', text: t('reviewNotice'),
      onclick: () => showNotice(main, ctx).focus() });
    const said = h('p', { tabindex: '-1', text: t('declined') });
    section.replaceChildren(h('h2', { id: 'notice-heading', text: t('noticeHeading') }), said,
      h('div', { class: 'actions' }, again));
    said.focus();
  });
  return heading;
}
