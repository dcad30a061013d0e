// The conversation screen: header (brand, agent, verified state, menu),
// connection and conversation status lines, the message log (a live
// region), the typing indicator and the composer. Everything shown comes
// from the engine; the text typed goes only to the engine.
import { h, download } from './dom.js';
import { guardDialog, verifyDialog, eraseDialog } from './dialogs.js';
import { purposesDialog } from './purposes.js';

const STATES = ['waiting', 'queued', 'active', 'transferring', 'transferred', 'taken', 'closed'];
const MARKS = { sending: '◷', sent: '✓', delivered: '✓✓', read: '✓✓' };
const TYPING_IDLE_MS = 5000;
const TYPING_REPEAT_MS = 3000;

function stateName(state) {
  return typeof state === 'number' ? STATES[state] || 'waiting' : String(state || 'waiting');
}

export class Chat {
  // ctx: {engine, t, brand, queue, isVisible(), attention(), requestClose(), onErased(count)}
  constructor(main, ctx) {
    this.ctx = ctx;
    this.engine = ctx.engine;
    this.t = ctx.t;
    this.items = new Map();   // 'm:seq' / 't:seq' -> {li, status}
    this.conv = null;
    this.typingSent = 0;
    this.build(main);
    this.pickConversation();
    this.renderStatus(this.engine.status());
    this.unsubscribe = this.engine.subscribe((e) => this.onEvent(e));
  }

  build(main) {
    const t = this.t;
    this.agentLine = h('p', { class: 'agent' });
    this.menuList = h('ul', { class: 'menu-list', id: 'menu-list', role: 'menu', hidden: true },
      this.menuItem('verify', t('verify'), () => this.verify()),
      this.menuItem('purposes', t('purposesChoices'), () => purposesDialog(t, this.engine)),
      this.menuItem('download', t('download'), () => this.exportData()),
      this.menuItem('erase', t('erase'), () => this.eraseData()));
    this.menuButton = h('button', { type: 'button', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
      'aria-controls': 'menu-list', 'aria-label': t('menu'), text: '⋮',
      onclick: () => this.toggleMenu() });
    const header = h('header', { class: 'header' },
      h('div', { class: 'who' }, h('h1', { text: this.ctx.brand }), this.agentLine),
      h('div', { class: 'menu' }, this.menuButton, this.menuList),
      h('button', { type: 'button', 'aria-label': t('close'), text: '✕', onclick: () => this.ctx.requestClose() }));
    this.connection = h('div', { class: 'status', role: 'status', id: 'connection' });
    this.info = h('div', { class: 'status info', role: 'status', id: 'conversation-state' });
    this.toast = h('div', { class: 'toast', role: 'status', id: 'toast' });
    this.log = h('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
      'aria-label': t('conversationLabel', { brand: this.ctx.brand }), tabindex: '0' });
    this.typingLine = h('div', { class: 'typing', id: 'typing' });
    this.input = h('textarea', { id: 'composer', rows: '2', maxlength: '8000',
      placeholder: t('composerPlaceholder'), 'aria-describedby': 'connection' });
    this.sendButton = h('button', { class: 'btn', type: 'submit', text: t('send') });
    this.composer = h('form', { class: 'composer', novalidate: true },
      h('label', { class: 'sr-only', for: 'composer', text: t('composerLabel') }), this.input, this.sendButton);
    this.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => this.typing());
    main.replaceChildren(header, this.connection, this.info, this.toast, this.log, this.typingLine, this.composer);
    main.addEventListener('keydown', (e) => this.menuKeys(e));
  }

  menuItem(id, label, action) {
    return h('li', { role: 'none' }, h('button', { type: 'button', role: 'menuitem', id: `menu-${id}`,
      tabindex: '-1', text: label, onclick: () => { this.toggleMenu(false); action(); } }));
  }

  toggleMenu(open = this.menuList.hidden) {
    this.menuList.hidden = !open;
    this.menuButton.setAttribute('aria-expanded', String(open));
    if (open)
      this.menuList.querySelector('button').focus();
    else if (this.menuList.contains(document.activeElement))
      this.menuButton.focus();
  }

  menuKeys(e) {
    if (this.menuList.hidden)
      return;
    const items = [...this.menuList.querySelectorAll('button')];
    const at = items.indexOf(document.activeElement);
    if (e.key === 'Escape') {
      e.stopPropagation();
      this.toggleMenu(false);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      items[(at + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length].focus();
    } else if (e.key === 'Tab') {
      this.toggleMenu(false);
    }
  }

  focus() {
    (this.input.disabled ? this.log : this.input).focus();
  }

  // The conversation shown: the newest one still open, else the newest closed one.
  pickConversation() {
    const list = this.engine.conversations();
    const open = list.filter((c) => stateName(c.state) !== 'closed');
    const chosen = open.length ? open[open.length - 1] : list[list.length - 1];
    this.showConversation(chosen || null);
  }

  showConversation(conv) {
    this.conv = conv ? conv.id : null;
    this.items.clear();
    this.log.replaceChildren();
    if (!conv) {
      this.log.append(h('li', { class: 'event' }, h('p', { text: this.t('firstMessage') })));
    } else {
      for (const m of this.engine.history(conv.id))
        this.addMessage(m, false);
    }
    this.renderConversation(conv);
    this.markRead();
  }

  renderConversation(conv) {
    const t = this.t;
    const state = conv ? stateName(conv.state) : null;
    this.agentName = conv && conv.agentName;
    this.agentLine.replaceChildren();
    if (this.agentName && state !== 'closed') {
      const verified = Boolean(conv.verified);
      this.agentLine.append(h('span', { text: this.agentName }),
        h('button', { type: 'button', class: verified ? 'badge verified' : 'badge', id: 'verified-state',
          'aria-label': `${verified ? t('verified') : t('notVerified')}: ${t('verify')}`,
          text: verified ? `✓ ${t('verified')}` : t('notVerified'), onclick: () => this.verify() }));
    }
    let line = '';
    if (state === 'waiting')
      line = t('waiting');
    else if (state === 'transferring')
      line = t('transferring');
    else if (state === 'closed')
      line = t('closed');
    this.info.replaceChildren(line);
    this.closed = state === 'closed';
    this.input.disabled = this.sendButton.disabled = false;
    if (this.closed) {
      this.info.append(' ', h('button', { class: 'btn secondary', type: 'button', id: 'new-conversation',
        text: t('newConversation'), onclick: () => { this.showConversation(null); this.input.focus(); } }));
    }
    this.menuList.querySelector('#menu-verify').disabled = !this.agentName;
  }

  key(m) {
    return `${m.fromMe ? 'm' : 't'}:${m.seq}`;
  }

  addMessage(m, announce = true) {
    const key = this.key(m);
    if (this.items.has(key))
      return this.updateStatus(key, m.status);
    const t = this.t;
    const time = h('time', { datetime: new Date(m.timeMs).toISOString(), title: t.dateTime(m.timeMs),
      text: t.time(m.timeMs) });
    const mark = h('span', { class: 'mark' });
    const li = h('li', { class: `msg ${m.fromMe ? 'mine' : 'theirs'}`, 'data-seq': m.seq },
      h('span', { class: 'sender', text: m.fromMe ? t('you') : (m.senderName || t('agent')) }),
      h('div', { class: 'bubble', text: m.text }),
      h('div', { class: 'meta' }, time, m.fromMe ? mark : null));
    if (this.log.firstElementChild && !this.log.firstElementChild.dataset.seq &&
        this.log.firstElementChild.classList.contains('event') && this.items.size === 0)
      this.log.replaceChildren();
    this.log.append(li);
    this.items.set(key, { li, mark, status: null });
    if (m.fromMe)
      this.updateStatus(key, m.status || 'sending');
    this.scroll();
    if (announce && !m.fromMe && !this.ctx.isVisible())
      this.ctx.attention();
    return undefined;
  }

  updateStatus(key, status) {
    const item = this.items.get(key);
    const order = ['sending', 'sent', 'delivered', 'read'];
    if (!item || !item.mark || !status || order.indexOf(status) <= order.indexOf(item.status))
      return;
    item.status = status;
    const label = this.t(`status${status[0].toUpperCase()}${status.slice(1)}`);
    item.mark.className = `mark ${status}`;
    item.mark.textContent = MARKS[status];
    item.mark.title = label;
    item.mark.setAttribute('aria-label', label);
    item.mark.setAttribute('role', 'img');
    item.li.dataset.status = status;
  }

  // Statuses as the engine holds them (sent, delivered and read move on).
  refreshStatuses() {
    if (!this.conv)
      return;
    for (const m of this.engine.history(this.conv))
      if (m.fromMe)
        this.updateStatus(this.key(m), m.status);
  }

  event(text) {
    this.log.append(h('li', { class: 'event' }, h('p', { text })));
    this.scroll();
  }

  scroll() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  markRead() {
    if (!this.conv || !this.ctx.isVisible())
      return;
    let last = -1;
    for (const [key] of this.items)
      if (key.startsWith('t:'))
        last = Math.max(last, Number(key.slice(2)));
    if (last >= 0 && last !== this.lastRead) {
      this.lastRead = last;
      this.engine.markRead(this.conv, last);
    }
  }

  onEvent(e) {
    switch (e.type) {
    case 'message':
      if (e.conv === this.conv) {
        this.addMessage(e);
        if (!e.fromMe) {
          this.setTyping(false);
          this.markRead();
        }
      }
      break;
    case 'receipt':
      if (e.conv === this.conv) {
        for (const [key] of this.items)
          if (key.startsWith('m:') && Number(key.slice(2)) <= e.seq)
            this.updateStatus(key, e.kind);
        this.refreshStatuses();
      }
      break;
    case 'typing':
      if (e.conv === this.conv)
        this.setTyping(e.active);
      break;
    case 'conversation':
      this.onConversation(e);
      break;
    case 'status':
      this.renderStatus(e);
      this.refreshStatuses();
      break;
    case 'erased':
      break;
    case 'warning':
      this.say(this.t('warning', { text: e.text }));
      break;
    case 'error':
      this.say(this.t('failed', { reason: e.text }), true);
      break;
    default:
      break;
    }
  }

  onConversation(e) {
    if (this.conv && e.id !== this.conv)
      return;
    if (!this.conv)
      this.conv = e.id;
    const before = this.agentName;
    const conv = this.engine.conversations().find((c) => c.id === e.id) ||
      { id: e.id, state: e.state, agentName: e.agentName };
    const state = stateName(e.state);
    if (e.transferredTo)
      this.event(this.t('transferred', { name: e.transferredTo }));
    else if (state === 'active' && conv.agentName && conv.agentName !== before)
      this.event(this.t('joined', { name: conv.agentName }));
    if (state === 'closed' && !this.closed)
      this.event(this.t('closed'));
    this.renderConversation(conv);
  }

  setTyping(active) {
    clearTimeout(this.typingTimer);
    this.typingLine.textContent = active ? this.t('typing', { name: this.agentName || this.t('agent') }) : '';
    if (active)
      this.typingTimer = setTimeout(() => this.setTyping(false), 3 * TYPING_IDLE_MS);
  }

  renderStatus(s) {
    clearInterval(this.countdown);
    const t = this.t;
    const outbox = (this.engine.status() || {}).outbox || 0;
    const queued = outbox ? ` ${t('queued', { count: outbox })}` : '';
    if (s.online) {
      this.connection.className = 'status';
      this.connection.textContent = '';
      return;
    }
    this.connection.className = 'status offline';
    if (!navigator.onLine || !s.retryInMs) {
      this.connection.textContent = (navigator.onLine ? t('reconnectingNow') : t('offline')) + queued;
      return;
    }
    const until = Date.now() + s.retryInMs;
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      this.connection.textContent = (seconds ? t('reconnecting', { seconds }) : t('reconnectingNow')) + queued;
      if (!seconds)
        clearInterval(this.countdown);
    };
    tick();
    this.countdown = setInterval(tick, 1000);
  }

  say(text, error = false) {
    this.toast.className = error ? 'toast error' : 'toast';
    this.toast.textContent = text;
  }

  typing() {
    if (!this.conv || this.closed)
      return;
    const now = Date.now();
    if (now - this.typingSent > TYPING_REPEAT_MS) {
      this.typingSent = now;
      this.engine.typing(this.conv, true);
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => {
      this.typingSent = 0;
      this.engine.typing(this.conv, false);
    }, TYPING_IDLE_MS);
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text || this.sending)
      return;
    this.sending = true;
    try {
      const chosen = await this.guard(text);
      if (!chosen) {
        this.input.focus();
        return;
      }
      clearTimeout(this.typingIdle);
      this.typingSent = 0;
      if (!this.conv || this.closed) {
        const id = await this.engine.open(this.ctx.queue, chosen.text, chosen.opts);
        this.input.value = '';
        const conv = this.engine.conversations().find((c) => c.id === id) || { id, state: 'waiting' };
        this.showConversation(conv);
      } else {
        const conv = this.conv;
        const { seq } = await this.engine.send(conv, chosen.text, chosen.opts);
        this.input.value = '';
        const sent = this.engine.history(conv).find((m) => m.fromMe && m.seq === seq);
        this.addMessage(sent || { seq, fromMe: true, timeMs: Date.now(), text: chosen.text, status: 'sending' }, false);
      }
      this.input.focus();
    } catch (e) {
      this.say(this.t('failed', { reason: e.message || e }), true);
    } finally {
      this.sending = false;
    }
  }

  // What the guard allows to be sent: {text, opts?} (opts: the confirmation
  // and the explicit consent to special categories for engine.open/send), or
  // null to edit. A special category the customer consented to in this
  // conversation is not asked about again; one not consented to yet needs
  // its own explicit consent (GDPR art. 9(2)(a)).
  async guard(text) {
    const verdict = this.engine.scan(text);
    const sendable = verdict.redacted !== undefined ? verdict.redacted : text;
    const needed = verdict.action === 'block' ? []
      : this.engine.specialNeeded(this.conv && !this.closed ? this.conv : null, sendable);
    const findings = verdict.findings.filter((f) => !f.special || needed.includes(f.category));
    const actions = new Set(findings.map((f) => f.action));
    const action = ['block', 'confirm', 'redact', 'warn'].find((a) => actions.has(a)) || 'allow';
    if (action === 'allow' && !needed.length)
      return { text: sendable };
    const chosen = await guardDialog(this.t, this.ctx.brand, text, { ...verdict, findings, action }, needed);
    if (!chosen)
      return null;
    return { text: chosen.text, opts: { confirmed: chosen.confirmed, special: chosen.special } };
  }

  async verify() {
    if (!this.conv || !this.agentName)
      return;
    const answer = await verifyDialog(this.t, this.agentName, this.engine.fingerprints(this.conv));
    if (answer === null)
      return;
    this.engine.setVerified(this.conv, answer);
    this.say(answer ? this.t('verifyDone', { name: this.agentName }) : this.t('verifyMismatch'), !answer);
    this.renderConversation(this.engine.conversations().find((c) => c.id === this.conv));
  }

  async exportData() {
    try {
      const json = await this.engine.exportJson();
      JSON.parse(json);
      const file = `parley-export-${new Date().toISOString().slice(0, 10)}.json`;
      download(file, json, 'application/json');
      this.say(this.t('downloaded', { file }));
    } catch (e) {
      this.say(this.t('failed', { reason: e.message || e }), true);
    }
  }

  async eraseData() {
    if (!(await eraseDialog(this.t)))
      return;
    const status = this.engine.status() || {};
    this.say(status.online ? this.t('erasing') : this.t('eraseOffline'));
    try {
      const result = await this.engine.erase();
      this.destroy();
      this.ctx.onErased(result ? result.envelopes : 0);
    } catch (e) {
      this.say(this.t('failed', { reason: e.message || e }), true);
    }
  }

  destroy() {
    clearInterval(this.countdown);
    clearTimeout(this.typingTimer);
    clearTimeout(this.typingIdle);
    if (this.unsubscribe)
      this.unsubscribe();
  }
}
