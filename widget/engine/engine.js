// The widget's engine: everything below the chat panel inside the
// widget's iframe. libparley's session runs in the wasm module
// (widget/glue); this file keeps the customer's installation (storage.js),
// drives the session (host.js) and offers the panel the API of
// widget/engine/README.md.
//
//   import { startEngine } from './engine/engine.js';
//   const engine = await startEngine({ relay, pin, directory });
//
// Nothing is kept on the device and no key is made before the customer
// consents: until then the session lives in memory only, and it is made
// (and the relay contacted) before consent only when no directory shipped
// with the page, to fetch the brand's notice.
import { Glue, ParleyError, GUARD_ACTIONS, SCAN_CATEGORIES, SPECIAL_CATEGORIES } from './glue.js';
import { Host } from './host.js';
import { Storage, installationExists, databaseName } from './storage.js';
import { exportAll, historyOf, conversationsOf } from './views.js';

const STATE_RECORD = new TextEncoder().encode('parley-widget/state/v1');
const LOCK_WAIT_MS = 5000;
const SECRET_BYTES = 32;

function fail(code, text) {
  return new ParleyError(code, text);
}

// Holds the page's Web Lock on the installation while the engine runs:
// two tabs of one browser must not drive one installation at once.
async function lockInstallation(name) {
  if (!navigator.locks)
    return () => {};
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), LOCK_WAIT_MS);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await new Promise((resolve, reject) => {
    navigator.locks.request(name, { signal: abort.signal }, () => {
      clearTimeout(timer);
      resolve();
      return held;
    }).catch(() => reject(fail('in-use', 'the chat is open in another tab of this browser')));
  });
  return release;
}

class Engine {
  constructor(glue, options, brandId) {
    this.glue = glue;
    this.options = options;
    this.brandId = brandId;
    this.listeners = new Set();
    this.mode = 'fresh';          // 'fresh' | 'memory' | 'live' | 'closed'
    this.storage = null;
    this.secret = null;           // memory mode: the installation secret to keep at consent
    this.noticeData = null;
    this.state = null;            // the widget's own record: sent, read, verified, erased
    this.unread = new Map();
    this.directoryWaiters = [];
    this.consenting = 0;
    this.erasing = null;
    this.keyRefusals = 0;         // since the erasure: payloads refused for want of a key
    this.wiping = false;
    this.host = null;
  }

  emit(ev) {
    for (const fn of [...this.listeners]) {
      try {
        fn(ev);
      } catch (e) {
        console.error('parley widget: an event listener failed', e);
      }
    }
  }

  now() {
    return Date.now();
  }

  // ---- start-up ----------------------------------------------------

  async boot() {
    const g = this.glue;
    if (this.options.guard)
      this.setGuard(this.options.guard);
    if (await installationExists(this.brandId)) {
      const storage = await Storage.open(this.brandId);
      const secret = await storage.unlock().catch(() => {
        storage.close();
        throw fail('storage', 'the chat history on this device cannot be read');
      });
      if (secret === null) {
        await storage.destroy(); // a database without keys holds no installation
      } else {
        await this.resume(storage, secret);
        return;
      }
    }
    if (this.options.directory) {
      this.noticeData = g.with([this.options.directory, this.options.pin], ([d, dl], [p, pl]) =>
        g.json(g.m._parley_widget_directory_notice(d, dl, p, pl, this.now())));
      if (!this.noticeData) {
        const why = g.json(g.m._parley_widget_text());
        this.emit({ type: 'warning', code: g.errorName(why?.error ?? 1),
          text: 'the directory shipped with the page does not verify; asking the relay' });
      }
    }
    if (!this.noticeData)
      this.startMemorySession();
  }

  newHost() {
    this.host = new Host(this.glue, this.options.relay, (ev) => this.onSessionEvent(ev),
      (e) => this.storageFailed(e));
  }

  // A returning customer: the installation's rows into the store, then the session.
  async resume(storage, secret) {
    const g = this.glue;
    let rows;
    try {
      rows = await storage.rows();
    } catch (e) {
      storage.close();
      throw fail('storage', 'the chat history on this device cannot be read');
    }
    g.with([secret], ([s, sl]) => g.check(g.m._parley_widget_keys(s, sl)));
    secret.fill(0);
    g.check(g.m._parley_widget_store_persist());
    for (const { id, row } of rows) {
      const err = g.with([id, row], ([i], [r, rl]) => g.m._parley_widget_store_load(i, r, rl));
      row.fill(0);
      if (err !== 0) {
        g.m._parley_widget_session_end();
        storage.close();
        throw fail('storage', 'the chat history on this device is damaged');
      }
    }
    this.storage = storage;
    this.newHost();
    this.host.storage = storage;
    this.startSession();
    this.mode = 'live';
    this.loadState();
    this.host.want(true);
    this.maybeWipe();
  }

  startSession() {
    const g = this.glue;
    const err = g.with([this.options.pin], ([p, pl]) =>
      g.m._parley_widget_session_start(p, pl, this.now()));
    if (err !== 0) {
      g.m._parley_widget_session_end();
      throw g.error(err);
    }
    this.host.pump();
    this.refreshNotice();
  }

  // A session in memory only: its store is kept nowhere until consent.
  startMemorySession() {
    const g = this.glue;
    this.secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
    g.with([this.secret], ([s, sl]) => g.check(g.m._parley_widget_keys(s, sl)));
    this.newHost();
    this.startSession();
    this.mode = 'memory';
    this.state = { sent: {}, read: {}, verified: {}, erased: null, erasing: false };
    this.updateConnection();
  }

  // Memory mode connects only to fetch the notice or to consent; live mode always.
  updateConnection() {
    if (!this.host)
      return;
    const want = this.mode === 'live' ||
      (this.mode === 'memory' && (this.consenting > 0 || !this.noticeData));
    if (want !== this.host.wanted)
      this.host.want(want);
  }

  refreshNotice() {
    const g = this.glue;
    const n = g.json(g.m._parley_widget_notice(this.now()));
    if (n)
      this.noticeData = n;
    return n;
  }

  loadState() {
    const g = this.glue;
    let state = null;
    g.with([STATE_RECORD], ([k, kl]) => g.check(g.m._parley_widget_record_get(k, kl)));
    const bytes = g.out();
    if (bytes.length) {
      try {
        state = JSON.parse(g.decode(bytes));
      } catch (e) {
        state = null;
      }
    }
    this.state = Object.assign({ sent: {}, read: {}, verified: {}, erased: null, erasing: false },
      state || {});
  }

  saveState() {
    const g = this.glue;
    const bytes = new TextEncoder().encode(JSON.stringify(this.state));
    this.host.call(() => g.with([STATE_RECORD, bytes], ([k, kl], [v, vl]) =>
      g.check(g.m._parley_widget_record_put(k, kl, v, vl))));
  }

  storageFailed(e) {
    console.error('parley widget: IndexedDB write failed', e);
    this.emit({ type: 'error', code: 'storage',
      text: 'this device could not save the chat; starting again from what it saved' });
    this.teardown();
    this.reboot();
  }

  async reboot() {
    this.mode = 'fresh';
    try {
      await this.boot();
    } catch (e) {
      this.emit({ type: 'error', code: e.code || 'storage', text: e.message });
    }
  }

  teardown() {
    if (this.host)
      this.host.stop();
    this.host = null;
    this.glue.m._parley_widget_session_end();
    if (this.storage)
      this.storage.close();
    this.storage = null;
    this.unread.clear();
    if (this.secret)
      this.secret.fill(0);
    this.secret = null;
  }

  // ---- what the session says --------------------------------------

  onSessionEvent(ev) {
    const handler = SESSION_EVENTS[ev.kind];
    if (handler)
      handler.call(this, ev);
  }

  statusEvent() {
    this.emit({ type: 'status', online: this.host ? this.host.online() : false,
      retryInMs: this.host ? this.host.retryInMs() : null });
  }

  errorEvent(ev, code) {
    this.emit({ type: 'error', code: code || this.glue.errorName(ev.error),
      text: ev.errorText || code, conv: ev.conv });
  }

  conversationEvent(id, stateOverride, transferredTo) {
    const info = this.conversationInfo(id);
    const ev = { type: 'conversation', id, state: stateOverride || (info ? info.state : 'waiting'),
      agentName: info && info.agent ? info.agent.name : null,
      agentId: info && info.agent ? info.agent.id : null };
    if (transferredTo)
      ev.transferredTo = transferredTo;
    this.emit(ev);
  }

  conversationInfo(id) {
    return conversationsOf(this).find((c) => c.id === id) || null;
  }

  waitDirectory() {
    if (this.refreshNotice() && this.mode !== 'fresh')
      return Promise.resolve(this.noticeData);
    return new Promise((resolve, reject) => this.directoryWaiters.push({ resolve, reject }));
  }

  // The relay confirmed the erasure and what the erasure sealed has left
  // (the outbox is empty; every payload still waiting for an agent's key
  // was refused one for want of one): the installation is deleted from
  // the device.
  maybeWipe() {
    const m = this.glue.m;
    const rows = (table) => this.glue.with([table], ([t]) => m._parley_widget_store_rows(t));
    if (this.mode !== 'live' || this.wiping || !this.state || this.state.erased === null ||
        rows('outbox') > 0 || rows('pending') > this.keyRefusals)
      return;
    this.wiping = true;
    this.host.afterWrites(async () => {
      const storage = this.storage;
      this.storage = null;
      this.teardown();
      this.mode = 'fresh';
      this.state = null;
      try {
        await storage.destroy();
      } catch (e) {
        console.error('parley widget: deleting the installation failed', e);
      }
      this.wiping = false;
      this.emit({ type: 'reset' });
      this.statusEvent();
    });
  }

  // ---- the API ------------------------------------------------------

  notice() {
    const n = this.noticeData;
    if (!n)
      return null;
    const consented = this.hasConsent();
    return {
      brandId: n.brandId, text: n.text, version: n.version, expiresAt: n.expiresAt,
      queues: [...n.queues],
      // accepted: what the consent held on this device says (false before any).
      purposes: n.purposes.map((p) => ({ name: p.name, required: p.required,
        description: p.description, accepted: consented && this.accepted(p.name) })),
    };
  }

  accepted(name) {
    return this.glue.with([name], ([p]) => this.glue.m._parley_widget_consent_accepted(p)) === 1;
  }

  hasConsent() {
    return this.mode === 'live' && this.glue.m._parley_widget_has_consent() === 1;
  }

  async consent(purposes) {
    const shown = this.noticeData;
    if (!shown)
      throw fail('ENODIRECTORY', 'no privacy notice to consent to yet');
    const accepted = new Set(purposes || []);
    for (const p of shown.purposes)
      if (p.required && !accepted.has(p.name))
        throw fail('EINVAL', `the purpose "${p.name}" is required`);
    for (const name of accepted)
      if (!shown.purposes.some((p) => p.name === name))
        throw fail('EPURPOSE', `"${name}" is not a purpose of the notice`);
    // The session takes the optional purposes accepted; the required ones are always in the receipt.
    const optional = shown.purposes.filter((p) => !p.required && accepted.has(p.name))
      .map((p) => p.name).join('\n');
    if (this.mode === 'fresh')
      this.startMemorySession();
    this.consenting++;
    this.updateConnection();
    try {
      const current = await this.waitDirectory();
      if (current.version !== shown.version || current.text !== shown.text ||
          current.brandId !== shown.brandId ||
          JSON.stringify(current.purposes) !== JSON.stringify(shown.purposes)) {
        this.emit({ type: 'notice' });
        throw fail('notice-changed', 'the privacy notice changed: show it again');
      }
      if (this.mode === 'memory')
        await this.keepInstallation();
      const g = this.glue;
      this.host.call((m) => g.with([optional], ([o]) => g.check(m._parley_widget_consent(o, this.now()))));
      await this.host.written();
    } finally {
      this.consenting--;
      this.updateConnection();
    }
  }

  // An optional purpose withdrawn: the new receipt goes to the agents of
  // every conversation. A required one cannot be withdrawn alone: that is erase().
  async withdrawPurpose(name) {
    this.requireLive();
    const p = this.noticeData && this.noticeData.purposes.find((x) => x.name === name);
    if (!p)
      throw fail('EPURPOSE', `"${name}" is not a purpose of the notice`);
    if (p.required)
      throw fail('EINVAL', `the purpose "${name}" is required: withdrawing it is erasing (erase())`);
    const g = this.glue;
    this.host.call((m) => g.with([name], ([n]) =>
      g.check(m._parley_widget_withdraw_purpose(n, this.now()))));
    await this.host.written();
  }

  // Consent given: the memory session's store becomes the installation.
  async keepInstallation() {
    const storage = await Storage.open(this.brandId);
    await storage.create(this.secret);
    this.secret.fill(0);
    this.secret = null;
    this.glue.check(this.glue.m._parley_widget_store_persist());
    this.storage = storage;
    this.host.storage = storage;
    this.mode = 'live';
    this.host.pump();
    this.updateConnection();
    // Ask that the browser not evict the installation under storage pressure
    // (granted or not by its own rules; without it, IndexedDB is best-effort).
    if (navigator.storage && navigator.storage.persist)
      navigator.storage.persist().catch(() => {});
  }

  requireLive() {
    if (this.mode !== 'live')
      throw fail('ENOCONSENT', 'no consent given on this device yet');
  }

  // The text to send under the guard's policy and the special categories it
  // needs the customer's consent to (in conv; null: the conversation opened
  // next), or an error saying why not. Special categories are not asked
  // about with {confirmed}: each needs its explicit consent, once per
  // conversation ({special: {categories, wording}}), which the library
  // requires anyway.
  guarded(text, opts, conv) {
    const verdict = this.scan(text);
    if (verdict.action === 'block')
      throw fail('guard-block', 'the text holds data this brand does not accept in a chat');
    if (verdict.findings.some((f) => f.action === 'confirm' && !f.special) && !(opts && opts.confirmed))
      throw fail('guard-confirm', 'the text looks sensitive: confirm before sending');
    const sent = verdict.redacted !== undefined ? verdict.redacted : text;
    const needed = this.specialNeeded(conv, sent);
    const given = new Set((opts && opts.special && opts.special.categories) || []);
    if (needed.some((c) => !given.has(c)))
      throw fail('ESPECIAL', `explicit consent needed to send: ${needed.join(', ')}`);
    return { sent, needed };
  }

  // The special categories (GDPR art. 9) by name in text that the customer
  // has not explicitly consented to send in conv (null: the conversation
  // open() opens next).
  specialNeeded(conv, text) {
    this.requireLive();
    const g = this.glue;
    const mask = g.with([conv || '', text], ([c], [t]) => {
      g.check(g.m._parley_widget_special_needed(c, t));
      return Number(g.string(g.m._parley_widget_text()));
    });
    return SCAN_CATEGORIES.filter((_, i) => mask & (1 << i));
  }

  // The customer's explicit consent (GDPR art. 9(2)(a)) to send data of these
  // special categories in conv (null: the conversation open() opens next),
  // after the page showed it wording: signed by the customer's key, kept, and
  // sent to the agent before the text. Resolves once saved.
  async specialConsent(conv, categories, wording) {
    this.requireLive();
    let mask = 0;
    for (const name of categories) {
      const i = SCAN_CATEGORIES.indexOf(name);
      if (i < 0 || i >= SPECIAL_CATEGORIES)
        throw fail('EINVAL', `"${name}" is not a special category`);
      mask |= 1 << i;
    }
    const g = this.glue;
    const now = this.now();
    this.host.call((m) => g.with([conv || '', wording], ([c], [w]) =>
      g.check(m._parley_widget_special_consent(c, mask, w, now))));
    await this.host.written();
  }

  // One of the customer's texts, through the guard, into the session by
  // call(m, now, ...pointers to args and the text); resolves once saved,
  // with the session's answer (parley_widget_text()), the text sent and when.
  async writeText(args, text, opts, call, conv) {
    this.requireLive();
    const { sent, needed } = this.guarded(text, opts, conv);
    if (needed.length)
      await this.specialConsent(conv, needed, opts.special.wording);
    const g = this.glue;
    const now = this.now();
    const answer = this.host.call((m) => g.with([...args, sent], (...ptrs) => {
      g.check(call(m, now, ...ptrs.map(([p]) => p)));
      return g.string(m._parley_widget_text());
    }));
    await this.host.written();
    return { answer, sent, now };
  }

  async open(queue, text, opts) {
    const { answer: id, sent, now } = await this.writeText([queue], text, opts,
      (m, at, q, t) => m._parley_widget_open(q, t, at), null);
    this.conversationEvent(id, 'waiting');
    this.ownMessage(id, 1, now, sent);
    return id;
  }

  async send(conv, text, opts) {
    const { answer, sent, now } = await this.writeText([conv], text, opts,
      (m, at, c, t) => m._parley_widget_send(c, t, at), conv);
    const seq = Number(answer);
    this.ownMessage(conv, seq, now, sent);
    return sent === text ? { seq } : { seq, text: sent };
  }

  ownMessage(conv, seq, timeMs, text) {
    this.emit({ type: 'message', conv, seq, fromMe: true, senderName: '', timeMs, text });
  }

  typing(conv, active) {
    if (this.mode !== 'live')
      return;
    const g = this.glue;
    this.host.call((m) => g.with([conv], ([c]) =>
      m._parley_widget_typing(c, active ? 1 : 0, this.now())));
  }

  async markRead(conv, seq) {
    this.requireLive();
    const g = this.glue;
    this.host.call((m) => g.with([conv], ([c]) =>
      g.check(m._parley_widget_mark_read(c, seq, this.now()))));
    this.state.read[conv] = Math.max(this.state.read[conv] || 0, seq);
    this.unread.delete(conv);
    this.saveState();
    await this.host.written();
  }

  scan(text) {
    const g = this.glue;
    const r = g.with([text], ([t, tl]) => g.json(g.m._parley_widget_scan(t, tl)));
    if (!r)
      throw fail('ETOOBIG', 'the text could not be checked (too long?)');
    const actions = new Set(r.findings.map((f) => f.action));
    const action = ['block', 'confirm', 'redact', 'warn'].find((a) => actions.has(a)) || 'allow';
    const out = { findings: r.findings, action };
    if (r.redacted !== undefined)
      out.redacted = r.redacted;
    return out;
  }

  setGuard(policy) {
    const actions = new Uint8Array(SCAN_CATEGORIES.length);
    for (let c = 0; c < SCAN_CATEGORIES.length; c++) {
      const a = GUARD_ACTIONS.indexOf(policy[SCAN_CATEGORIES[c]] || 'confirm');
      if (a < 0)
        throw fail('EINVAL', `unknown guard action for ${SCAN_CATEGORIES[c]}`);
      actions[c] = a;
    }
    this.glue.with([actions], ([p]) => this.glue.check(this.glue.m._parley_widget_guard_policy(p)));
  }

  conversations() {
    if (this.mode !== 'live')
      return [];
    return conversationsOf(this).map((c) => ({
      id: c.id, state: c.state, queue: c.queue,
      agentName: c.agent ? c.agent.name : null, agentId: c.agent ? c.agent.id : null,
      verified: !!(c.agent && this.state.verified[c.agent.key]),
      reducedSecrecy: c.reducedSecrecy, unread: this.unreadOf(c.id),
    }));
  }

  unreadOf(conv) {
    if (!this.unread.has(conv)) {
      const read = this.state.read[conv] || 0;
      this.unread.set(conv, historyOf(this, conv).filter((e) => !e.fromMe && e.seq > read).length);
    }
    return this.unread.get(conv);
  }

  history(conv) {
    if (this.mode !== 'live')
      return [];
    const info = this.conversationInfo(conv);
    if (!info)
      throw fail('EINVAL', 'no such conversation');
    const sent = this.state.sent[conv] || 0;
    const read = this.state.read[conv] || 0;
    return historyOf(this, conv).map((e) => ({
      seq: e.seq, fromMe: e.fromMe, senderName: e.senderName, timeMs: e.timeMs, text: e.text,
      status: e.fromMe
        ? (e.seq <= info.peerRead ? 'read' : e.seq <= info.peerDelivered ? 'delivered'
          : e.seq <= sent ? 'sent' : 'sending')
        : (e.seq <= read ? 'read' : 'delivered'),
    }));
  }

  fingerprints(conv) {
    this.requireLive();
    const g = this.glue;
    const info = this.conversationInfo(conv);
    if (!info)
      throw fail('EINVAL', 'no such conversation');
    const groups = (fp) => (fp ? fp.split(' ') : null);
    return {
      mine: groups(g.string(g.m._parley_widget_fingerprint(0))),
      agent: info.agent ? groups(g.with([info.agent.key], ([k]) =>
        g.string(g.m._parley_widget_fingerprint(k)))) : null,
    };
  }

  async setVerified(conv, verified) {
    this.requireLive();
    const info = this.conversationInfo(conv);
    if (!info || !info.agent)
      throw fail('ESTATE', 'no agent to verify in this conversation');
    if (verified)
      this.state.verified[info.agent.key] = true;
    else
      delete this.state.verified[info.agent.key];
    this.saveState();
    await this.host.written();
    this.conversationEvent(conv);
  }

  async exportJson() {
    this.requireLive();
    return exportAll(this);
  }

  async erase() {
    this.requireLive();
    if (this.state.erased !== null)
      return { envelopes: this.state.erased };
    const g = this.glue;
    const done = new Promise((resolve, reject) => { this.erasing = { resolve, reject }; });
    this.host.call((m) => g.check(m._parley_widget_erase(this.now())));
    this.keyRefusals = 0;
    this.state.erasing = true;
    this.saveState();
    return done;
  }

  status() {
    const outbox = this.mode === 'live' ? this.glue.m._parley_widget_outbox() : 0;
    return { online: this.host ? this.host.online() : false,
      retryInMs: this.host ? this.host.retryInMs() : null, outbox };
  }

  reconnect() {
    if (this.host && this.host.wanted && !this.host.ws)
      this.host.connectNow();
  }

  close() {
    for (const w of this.directoryWaiters)
      w.reject(fail('closed', 'the engine was closed'));
    this.directoryWaiters = [];
    this.teardown();
    this.mode = 'closed';
  }
}

// What each session event does to the engine and tells the panel.
const SESSION_EVENTS = {
  connected() {
    this.host.authenticated();
    this.statusEvent();
  },
  disconnected() {
    this.statusEvent();
  },
  directory() {
    this.refreshNotice();
    this.emit({ type: 'notice' });
    for (const w of this.directoryWaiters.splice(0))
      w.resolve(this.noticeData);
    this.updateConnection();
  },
  conversation(ev) {
    const transferredTo = ev.state === 'transferring' && ev.agent ? ev.agent.name : undefined;
    this.conversationEvent(ev.conv, ev.state, transferredTo);
  },
  message(ev) {
    if (this.unread.has(ev.conv))
      this.unread.set(ev.conv, this.unread.get(ev.conv) + 1);
    this.emit({ type: 'message', conv: ev.conv, seq: ev.seq, fromMe: false,
      senderName: ev.agent ? ev.agent.name : '', timeMs: ev.timeMs, text: ev.text });
  },
  sent(ev) {
    if (this.mode === 'live' && ev.conv && ev.seq > (this.state.sent[ev.conv] || 0)) {
      this.state.sent[ev.conv] = ev.seq;
      this.saveState();
    }
    if (ev.conv)
      this.emit({ type: 'receipt', conv: ev.conv, seq: ev.seq, kind: 'sent' });
    this.maybeWipe();
  },
  delivered(ev) {
    this.emit({ type: 'receipt', conv: ev.conv, seq: ev.seq, kind: 'delivered' });
  },
  read(ev) {
    this.emit({ type: 'receipt', conv: ev.conv, seq: ev.seq, kind: 'read' });
  },
  typing(ev) {
    this.emit({ type: 'typing', conv: ev.conv, active: ev.active });
  },
  gap(ev) {
    this.emit({ type: 'warning', code: 'gap', conv: ev.conv,
      text: `messages ${ev.gapFrom} to ${ev.gapTo} of this conversation were lost` });
  },
  replay(ev) {
    this.errorEvent(ev);
  },
  reorder(ev) {
    this.errorEvent(ev, 'reorder');
  },
  rejected(ev) {
    // No key from the relay for an agent (one who never connected, or not
    // for weeks): the payload waits, and the panel has nothing to fix.
    const code = this.glue.errorName(ev.error);
    if (ev.conv && ['ENOPREKEY', 'EEXPIRED', 'EBADSIG'].includes(code)) {
      if (this.state && this.state.erasing)
        this.keyRefusals++;
      this.maybeWipe();
    }
    if (code === 'ENOPREKEY') {
      this.emit({ type: 'warning', code: 'ENOPREKEY', conv: ev.conv,
        text: 'an agent of this queue cannot be reached yet: the message waits for them' });
      return;
    }
    this.errorEvent(ev);
  },
  'relay-error'(ev) {
    this.emit({ type: 'error', code: this.glue.errorName(ev.error), relayCode: ev.relayCode,
      text: ev.errorText });
  },
  erased(ev) {
    if (this.mode === 'live') {
      this.state.erased = ev.erased;
      this.saveState();
    }
    this.emit({ type: 'erased', envelopes: ev.erased });
    if (this.erasing) {
      this.erasing.resolve({ envelopes: ev.erased });
      this.erasing = null;
    }
    this.maybeWipe();
  },
  'reduced-secrecy'(ev) {
    this.emit({ type: 'warning', code: 'reduced-secrecy', conv: ev.conv,
      text: 'the first messages of this conversation are protected by a medium-term key' });
  },
  'directory-expiry'(ev) {
    this.emit(ev.error === 0
      ? { type: 'warning', code: 'directory-expiring', expiresAt: ev.expiresAt,
        text: 'the brand directory expires soon' }
      : { type: 'warning', code: 'directory-expired', expiresAt: ev.expiresAt,
        text: 'the brand directory expired: no new conversation until the brand renews it' });
  },
};

function checkOptions(options) {
  if (!options || typeof options.pin !== 'string')
    throw fail('EINVAL', 'startEngine needs the client pin line (pin)');
  let url;
  try {
    url = new URL(options.relay);
  } catch (e) {
    throw fail('EINVAL', 'startEngine needs the relay address (relay: ws:// or wss://)');
  }
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:')
    throw fail('EINVAL', 'the relay address must be ws:// or wss://');
  if (options.directory != null && !(options.directory instanceof Uint8Array))
    throw fail('EINVAL', 'directory must be a Uint8Array or null');
  const fields = options.pin.trim().split(' ');
  if (fields.length !== 4 || fields[0] !== 'parley-brand-v1')
    throw fail('EMALFORMED', 'the pin is not a client pin line (parley-brand-v1 ID KEY KEY)');
  return fields[1];
}

// A directory as parley-keys writes it (directory.dir) starts with its file magic.
function directoryBody(bytes) {
  const magic = [0x50, 0x52, 0x4c, 0x59, 0x44, 0x49, 0x52, 0x31]; // "PRLYDIR1"
  if (bytes && bytes.length >= 8 && magic.every((b, i) => bytes[i] === b))
    return bytes.subarray(8);
  return bytes;
}

export async function startEngine(options) {
  const brandId = checkOptions(options);
  const release = await lockInstallation(databaseName(brandId));
  let engine;
  try {
    const glue = await Glue.load();
    engine = new Engine(glue, { ...options, pin: options.pin.trim(),
      directory: options.directory ? directoryBody(options.directory) : null }, brandId);
    await engine.boot();
  } catch (e) {
    release();
    throw e;
  }
  const api = {
    subscribe(fn) {
      engine.listeners.add(fn);
      return () => engine.listeners.delete(fn);
    },
    close() {
      engine.close();
      release();
    },
  };
  for (const name of ['notice', 'hasConsent', 'consent', 'withdrawPurpose', 'open', 'send',
    'typing', 'markRead',
    'scan', 'specialNeeded', 'specialConsent', 'conversations', 'history', 'fingerprints', 'setVerified', 'exportJson', 'erase',
    'status', 'reconnect'])
    api[name] = engine[name].bind(engine);
  return Object.freeze(api);
}
