// The customer's privacy choices after consent, from the panel's menu:
// the purposes of the brand's notice, the required ones marked as needed
// for the chat, and beside each optional one accepted a button that
// withdraws it. Withdrawing keeps the conversation: the engine records a
// new consent receipt and sends it to the agents of every conversation.
// A required purpose is withdrawn only by erasing (Erase my data).
import { h, modal } from './dom.js';

export function purposesDialog(t, engine) {
  return modal('purposes-heading', (close) => {
    const done = h('button', { class: 'btn', type: 'button', text: t('purposesDone'), onclick: () => close(null) });
    const said = h('p', { class: 'said', role: 'status', id: 'purposes-said' });
    const list = h('ul', { class: 'purposes' });
    const withdraw = async (button, p, label) => {
      button.disabled = true;
      try {
        await engine.withdrawPurpose(p.name);
        said.textContent = t('purposeWithdrawnSaid', { purpose: label });
      } catch (e) {
        said.textContent = t('failed', { reason: e.message || e });
      }
      render();
      done.focus(); // the button pressed is gone
    };
    const item = (p) => {
      const label = p.description || p.name;
      const state = p.required ? t('purposeNeeded') : t(p.accepted ? 'purposeAccepted' : 'purposeWithdrawn');
      const li = h('li', {}, h('span', { class: 'purpose', text: label }), h('span', { class: 'state', text: state }));
      if (!p.required && p.accepted) {
        const button = h('button', { class: 'btn secondary', type: 'button', text: t('withdraw'),
          'aria-label': t('withdrawPurpose', { purpose: label }) });
        button.addEventListener('click', () => withdraw(button, p, label));
        li.append(button);
      }
      return li;
    };
    const render = () => {
      const notice = engine.notice();
      list.replaceChildren(...(notice ? notice.purposes : []).map(item));
    };
    render();
    done.dataset.initialFocus = '';
    return [h('h2', { id: 'purposes-heading', text: t('purposesChoices') }), h('p', { text: t('purposesHelp') }),
      list, said, h('div', { class: 'actions' }, done)];
  });
}
