// The widget's engine in Debian's Chromium, against a real parley-relay and
// an echo agent (parley-demo --echo-agent): each case drives the engine API
// of widget/engine/README.md from a test page (engine-test.html) and checks
// what a customer would notice. At the end of every case, the relay's
// database, WAL and log must hold none of the texts typed in the page.
//
//   node engine_test.mjs CASE MODULE.js SOURCE_ROOT NATIVE_BUILD_DIR
//
// Cases: consent, probe, reload, offline, durability, policy, erase.
// Exits 77 (SKIP) without Chromium, playwright-core or the native programs,
// a failure instead under PARLEY_WIDGET_REQUIRED=1.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadChromium, chromiumArgs, nativePrograms, tempDir, makeBrand, Relay, EchoAgent, engineWebRoot,
  leaks, until,
} from './harness.mjs';

const NAME = 'engine test';
const here = path.dirname(fileURLToPath(import.meta.url));
const [caseName, moduleJs, sourceRoot, nativeBuild] = process.argv.slice(2);
if (!caseName || !moduleJs || !sourceRoot || !nativeBuild) {
  console.error('usage: engine_test.mjs CASE MODULE.js SOURCE_ROOT NATIVE_BUILD_DIR');
  process.exit(2);
}

const { chromium, chromiumPath } = await loadChromium(NAME);
const bins = nativePrograms(NAME, nativeBuild);
const NOTICE = 'Widget Shop keeps this conversation to answer your question.\n';
const BRAND_DB = 'parley-widget/widget-shop';
const SURVEY = 'May we ask you afterwards how we did?';
// The brand's signed guard policy (engine policy; the other cases' brand signs none).
const BRAND_GUARD = 'health=block,email=redact,phone=warn';

const failures = [];
function check(ok, what) {
  if (!ok) {
    failures.push(what);
    console.error(`FAIL: ${what}`);
  }
  return ok;
}

// Texts typed in the page, each unique, for the leak check at the end.
const typed = [];
function text(label) {
  const t = `${label} ${Math.random().toString(36).slice(2, 10)}`;
  typed.push(t);
  return t;
}

class Page {
  constructor(ctx) {
    this.ctx = ctx;
  }

  async open(origin) {
    this.page = await this.ctx.context.newPage();
    this.page.on('console', (msg) => {
      if (msg.type() === 'error' && !this.ctx.expectedConsole.some((re) => re.test(msg.text())))
        this.ctx.pageErrors.push(`console: ${msg.text()}`);
    });
    this.page.on('pageerror', (e) => this.ctx.pageErrors.push(`page error: ${e}`));
    this.page.on('websocket', () => { this.ctx.websockets++; });
    await this.page.goto(`${origin}/`);
    await this.page.waitForFunction(() => window.engineTestReady === true);
    return this;
  }

  async reload() {
    await this.page.reload();
    await this.page.waitForFunction(() => window.engineTestReady === true);
  }

  async start(options) {
    const r = await this.page.evaluate((o) => window.T.start(o).then(() => null,
      (e) => ({ error: e.code, message: String(e.message) })), options);
    if (r)
      throw new Error(`startEngine failed: ${r.error}: ${r.message}`);
  }

  call(method, ...args) {
    return this.page.evaluate(([m, a]) => window.T.call(m, ...a), [method, args]);
  }

  eval(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  // Waits for an engine event with every field of match (ms bound).
  async event(match, what, ms = 60000) {
    try {
      await this.page.waitForFunction((m) => window.T.log.events.some((e) =>
        Object.entries(m).every(([k, v]) => e[k] === v)), match, { timeout: ms, polling: 50 });
    } catch (e) {
      const seen = await this.page.evaluate(() => window.T.log.events.map((e) => e.type + (e.code ? `:${e.code}` : '')));
      throw new Error(`timed out waiting for ${what} (${JSON.stringify(match)}); events seen: ${seen.join(' ')}`);
    }
  }

  events(match) {
    return this.page.evaluate((m) => window.T.log.events.filter((e) =>
      Object.entries(m).every(([k, v]) => e[k] === v)), match);
  }

  databases() {
    return this.page.evaluate(() => window.T.databases());
  }

  async close() {
    await this.page.evaluate(() => window.T.close());
  }
}

// Everything a case runs against; stopped in one place.
async function setUp() {
  const work = tempDir('parley-engine-test');
  const brand = makeBrand(bins, work, NOTICE, [`survey=${SURVEY}`], { guard: caseName === 'policy' ? BRAND_GUARD : null });
  // The relay serves the test page and the engine (its web root, under its
  // own Content-Security-Policy) and the WebSocket on the same origin.
  const web = engineWebRoot(path.join(work, 'web'), sourceRoot, moduleJs, {
    'index.html': path.join(here, 'engine-test.html'),
    'engine-test.js': path.join(here, 'engine-test.js'),
  });
  const relay = await new Relay(bins, brand, work, ['--web-root', web]).start();
  const agent = await new EchoAgent(bins, brand, relay).start();
  const ctx = { work, brand, relay, agent, origin: `http://127.0.0.1:${relay.port}`, pageErrors: [],
    expectedConsole: [], websockets: 0, userDataDir: path.join(work, 'chromium-profile') };
  ctx.directoryHex = fs.readFileSync(brand.directoryFile).toString('hex');
  ctx.options = { relay: relay.url, pin: brand.pin };
  await launch(ctx);
  return ctx;
}

async function launch(ctx) {
  ctx.context = await chromium.launchPersistentContext(ctx.userDataDir, {
    executablePath: chromiumPath, headless: true, args: chromiumArgs(), timeout: 60000 });
  // engine offline: every WebSocket of the pages goes through the test,
  // which can refuse them (routes apply to pages made after them).
  if (caseName === 'offline')
    await ctx.context.routeWebSocket(/.*/, (ws) => {
      if (ctx.socketsBlocked)
        ws.close();
      else
        ws.connectToServer();
    });
}

// Also searches the relay's files while it still runs (its WAL and shared
// memory exist only then) for the texts typed.
async function tearDown(ctx) {
  if (ctx.context)
    await ctx.context.close().catch(() => {});
  await ctx.agent.stop();
  ctx.searched = ctx.relay.child ? ctx.relay.files() : [];
  ctx.found = leaks(ctx.searched, typed);
  await ctx.relay.stop();
}

// A customer who consented and opened a conversation the echo agent answered.
async function converse(ctx, page, purposes = ['support']) {
  check(await page.call('consent', purposes) === null, 'consent failed');
  const first = text('Bonjour, ma commande');
  const conv = await page.call('open', 'support', first);
  check(typeof conv === 'string' && /^[0-9a-f]{32}$/.test(conv), `open gave ${JSON.stringify(conv)}`);
  await page.event({ type: 'conversation', id: conv, state: 'active' }, 'the agent\'s claim');
  await page.event({ type: 'message', conv, text: `echo: ${first}`, fromMe: false }, 'the echo');
  return { conv, first };
}

const cases = {
  // Notice before any key or connection, consent, a reply, the guard, the API's views.
  async consent(ctx) {
    const page = await new Page(ctx).open(ctx.origin);
    await page.start({ ...ctx.options, directoryHex: ctx.directoryHex });
    const notice = await page.call('notice');
    check(notice && notice.text === NOTICE && notice.brandId === 'widget-shop' &&
      JSON.stringify(notice.purposes) === JSON.stringify([
        { name: 'support', required: true, description: '', accepted: false },
        { name: 'survey', required: false, description: SURVEY, accepted: false }]),
    `the shipped directory's notice: ${JSON.stringify(notice)}`);
    check(await page.call('hasConsent') === false, 'consent before any was given');
    check(ctx.websockets === 0, 'the relay was contacted before consent, with the notice shipped');
    check(!(await page.databases()).includes(BRAND_DB), 'IndexedDB written before consent');
    const refused = await page.call('consent', ['survey']);
    check(refused && refused.error === 'EINVAL', `consent without the required purpose: ${JSON.stringify(refused)}`);
    const unknown = await page.call('consent', ['support', 'marketing']);
    check(unknown && unknown.error === 'EPURPOSE', `consent to a purpose not in the notice: ${JSON.stringify(unknown)}`);
    check(!(await page.databases()).includes(BRAND_DB), 'IndexedDB written by a refused consent');
    check(ctx.websockets === 0, 'the relay was contacted by a refused consent');
    const { conv } = await converse(ctx, page, ['support', 'survey']);
    const accepted = (await page.call('notice')).purposes.map((p) => [p.name, p.accepted]);
    check(JSON.stringify(accepted) === '[["support",true],["survey",true]]', `accepted: ${JSON.stringify(accepted)}`);
    check(await page.call('hasConsent') === true, 'no consent after consenting');
    check((await page.databases()).includes(BRAND_DB), 'no IndexedDB installation after consent');

    // The guard: a card number is redacted, health data needs a confirmation.
    const card = '4111 1111 1111 1111';
    const cardText = text(`😀 ma carte est ${card} merci`);
    const scan = await page.call('scan', cardText);
    const f = scan.findings && scan.findings[0];
    check(scan.action === 'redact' && f && f.category === 'card' &&
      f.start === cardText.indexOf(card) && f.end === cardText.indexOf(card) + card.length &&
      scan.redacted && scan.redacted.includes('[card]') && !scan.redacted.includes('4111'),
    `scan of a card number: ${JSON.stringify(scan)}`);
    const health = text('Je suis enceinte et diabétique, puis-je retourner le colis');
    const hs = await page.call('scan', health);
    check(hs.action === 'confirm' && hs.findings.some((x) => x.category === 'health' && x.special),
      `scan of health data: ${JSON.stringify(hs)}`);
    check((await page.call('scan', 'Où est mon colis ?')).action === 'allow', 'a plain text is not allowed');
    // Special categories: the customer's explicit consent, once per conversation (art. 9(2)(a)).
    const needed = await page.call('specialNeeded', conv, health);
    check(JSON.stringify(needed) === '["health"]', `special categories needed: ${JSON.stringify(needed)}`);
    const unconfirmed = await page.call('send', conv, health, { confirmed: true });
    check(unconfirmed && unconfirmed.error === 'ESPECIAL', `sensitive text without consent: ${JSON.stringify(unconfirmed)}`);
    const confirmed = await page.call('send', conv, health,
      { special: { categories: ['health'], wording: 'I consent to sending health information.' } });
    check(confirmed && confirmed.seq > 1, `sensitive text with consent: ${JSON.stringify(confirmed)}`);
    const now = await page.call('specialNeeded', conv, health);
    check(JSON.stringify(now) === '[]', `special categories needed after consent: ${JSON.stringify(now)}`);
    const redacted = await page.call('send', conv, cardText);
    check(redacted && redacted.text === scan.redacted, `a card number sent: ${JSON.stringify(redacted)}`);
    await page.event({ type: 'message', conv, text: `echo: ${scan.redacted}` }, 'the redacted echo');
    await page.event({ type: 'message', conv, text: `echo: ${health}` }, 'the health echo');

    // The views: conversation, history, fingerprints, verification, read marks, export.
    const history = await page.call('history', conv);
    check(history.length === 6 && history.filter((e) => e.fromMe).length === 3 &&
      history.some((e) => !e.fromMe && e.senderName === 'Alice Martin'),
    `history: ${JSON.stringify(history.map((e) => [e.fromMe, e.senderName, e.status]))}`);
    const list = await page.call('conversations');
    check(list.length === 1 && list[0].id === conv && list[0].state === 'active' &&
      list[0].agentName === 'Alice Martin' && list[0].agentId === 'alice' && list[0].unread === 3 &&
      list[0].verified === false, `conversations: ${JSON.stringify(list)}`);
    const fp = await page.call('fingerprints', conv);
    check(fp.mine.length === 12 && fp.agent.length === 12 &&
      [...fp.mine, ...fp.agent].every((g) => /^\d{5}$/.test(g)) && fp.mine.join() !== fp.agent.join(),
    `fingerprints: ${JSON.stringify(fp)}`);
    check(await page.call('setVerified', conv, true) === null, 'setVerified failed');
    check((await page.call('conversations'))[0].verified === true, 'verified not kept');
    const last = history.filter((e) => !e.fromMe).pop();
    check(await page.call('markRead', conv, last.seq) === null, 'markRead failed');
    check((await page.call('conversations'))[0].unread === 0, 'unread after markRead');
    const exported = JSON.parse(await page.call('exportJson'));
    const messages = exported.conversations[0].messages;
    check(exported.format === 'parley-widget-export/v1' && messages.length === 6 &&
      messages.some((m) => m.text === health), `export: ${JSON.stringify(exported).slice(0, 300)}`);
    const receipt = exported.conversations[0].consent;
    check(receipt && JSON.stringify(receipt.purposes) === '["support","survey"]',
      `the exported receipt: ${JSON.stringify(receipt)}`);

    // An optional purpose withdrawn; the required one only by erasure.
    check(await page.call('withdrawPurpose', 'survey') === null, 'withdrawing survey failed');
    const after = (await page.call('notice')).purposes.map((p) => [p.name, p.accepted]);
    check(JSON.stringify(after) === '[["support",true],["survey",false]]', `after withdrawal: ${JSON.stringify(after)}`);
    const required = await page.call('withdrawPurpose', 'support');
    check(required && required.error === 'EINVAL', `withdrawing the required purpose: ${JSON.stringify(required)}`);
    check(await page.call('hasConsent') === true, 'consent lost by withdrawing an optional purpose');
    const withdrawn = JSON.parse(await page.call('exportJson')).conversations[0].consent;
    check(JSON.stringify(withdrawn.purposes) === '["support"]' &&
      JSON.stringify(withdrawn.withdrawn_purposes) === '["survey"]', `the receipt after withdrawal: ${JSON.stringify(withdrawn)}`);
  },

  // No directory shipped: the engine asks the relay first, still keeping nothing before consent.
  async probe(ctx) {
    const page = await new Page(ctx).open(ctx.origin);
    await page.start(ctx.options);
    await page.event({ type: 'notice' }, 'the notice fetched from the relay');
    const notice = await page.call('notice');
    check(notice && notice.text === NOTICE, `the relay's notice: ${JSON.stringify(notice)}`);
    check(!(await page.databases()).includes(BRAND_DB), 'IndexedDB written before consent');
    await converse(ctx, page);
    check((await page.databases()).includes(BRAND_DB), 'no installation after consent');
  },

  // Reload and browser restart keep identity, conversation and history; nothing twice.
  async reload(ctx) {
    let page = await new Page(ctx).open(ctx.origin);
    await page.start({ ...ctx.options, directoryHex: ctx.directoryHex });
    const { conv } = await converse(ctx, page);
    const mine = (await page.call('fingerprints', conv)).mine.join(' ');
    const before = await page.call('history', conv);
    await page.reload();
    await page.start(ctx.options);
    check(await page.call('hasConsent') === true, 'consent lost on reload');
    check((await page.call('fingerprints', conv)).mine.join(' ') === mine, 'identity changed on reload');
    const after = await page.call('history', conv);
    check(JSON.stringify(after.map((e) => e.text)) === JSON.stringify(before.map((e) => e.text)),
      `history after reload: ${JSON.stringify(after.map((e) => e.text))}`);
    const again = text('Et après rechargement ?');
    check((await page.call('send', conv, again)).seq > 0, 'send after reload');
    await page.event({ type: 'message', conv, text: `echo: ${again}` }, 'the echo after reload');
    await page.event({ type: 'status', online: true }, 'online after reload');

    // The browser closes and starts again on the same profile; in between,
    // its IndexedDB files hold none of the texts, names or notice in clear.
    await ctx.context.close();
    const idbFiles = [];
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
      const p = path.join(d, e.name);
      if (e.isDirectory())
        walk(p);
      else if (/indexeddb/i.test(p))
        idbFiles.push(p);
    });
    walk(ctx.userDataDir);
    check(idbFiles.length > 0, 'no IndexedDB files in the browser profile');
    const inClear = leaks(idbFiles, [...typed, 'Alice Martin', NOTICE.trim(), Buffer.from(conv, 'hex')]);
    check(inClear.length === 0, `in clear in IndexedDB: ${JSON.stringify(inClear)}`);
    await launch(ctx);
    page = await new Page(ctx).open(ctx.origin);
    await page.start(ctx.options);
    const restarted = await page.call('history', conv);
    check(restarted.length === 4 && restarted[2].text === again &&
      restarted.filter((e) => e.text === `echo: ${again}`).length === 1,
    `history after a browser restart: ${JSON.stringify(restarted.map((e) => e.text))}`);
    check((await page.call('fingerprints', conv)).mine.join(' ') === mine, 'identity changed on restart');
    const third = text('Après redémarrage du navigateur');
    check((await page.call('send', conv, third)).seq > 0, 'send after restart');
    await page.event({ type: 'message', conv, text: `echo: ${third}` }, 'the echo after restart');
  },

  // Typed offline (the relay killed): kept, across a reload too, and sent
  // once the relay is back.
  async offline(ctx) {
    const page = await new Page(ctx).open(ctx.origin);
    await page.start({ ...ctx.options, directoryHex: ctx.directoryHex });
    const { conv } = await converse(ctx, page);
    // Chromium says so on the console when it cannot connect: expected here.
    ctx.expectedConsole.push(/^WebSocket connection to '.*' failed/);
    await ctx.relay.stop('SIGKILL');
    await page.event({ type: 'status', online: false }, 'offline once the relay died');
    const queued = text('Message écrit hors ligne');
    const r = await page.call('send', conv, queued);
    check(r && r.seq > 0, `send offline: ${JSON.stringify(r)}`);
    check((await page.call('status')).outbox >= 1, 'nothing in the outbox offline');
    // The page reloads while the relay's socket is still out of reach: the
    // relay comes back to serve the page's files (its web root), and the
    // browser refuses the page every WebSocket until the test lets them through.
    ctx.socketsBlocked = true;
    await ctx.relay.restart();
    await page.reload();
    await page.start(ctx.options);
    const h = await page.call('history', conv);
    const mine = h.find((e) => e.text === queued);
    check(mine && mine.status === 'sending', `the offline text after a reload: ${JSON.stringify(mine)}`);
    check((await page.call('status')).outbox >= 1, 'the outbox lost on reload');
    check((await page.call('status')).online === false, 'online while the relay is out of reach');
    ctx.socketsBlocked = false;
    await page.call('reconnect');
    await page.event({ type: 'status', online: true }, 'online once the relay is back', 90000);
    await page.event({ type: 'message', conv, text: `echo: ${queued}` }, 'the echo of the offline text');
    await page.event({ type: 'receipt', conv, seq: r.seq, kind: 'delivered' }, 'delivered');
    const done = (await page.call('history', conv)).find((e) => e.text === queued);
    check(done && (done.status === 'delivered' || done.status === 'read'), `status after delivery: ${JSON.stringify(done)}`);
    // The receipts for the echo leave through the outbox too: it empties once the relay took them.
    await until('the outbox emptying', async () => (await page.call('status')).outbox === 0);
  },

  // Nothing leaves the page before the IndexedDB transaction behind it commits.
  async durability(ctx) {
    const page = await new Page(ctx).open(ctx.origin);
    await page.start({ ...ctx.options, directoryHex: ctx.directoryHex });
    const { conv } = await converse(ctx, page);
    const held = text('Écrit pendant que le disque traîne');
    const r = await page.eval(([c, t]) => {
      window.T.gate();
      const before = window.T.log.sent.length;
      window.T.begin('held', 'send', c, t);
      return { before, after: window.T.log.sent.length, commits: window.T.log.commits,
        pending: window.T.pending.held };
    }, [conv, held]);
    check(r.after === r.before, `${r.after - r.before} frame(s) sent before their transaction committed`);
    check(r.pending === null, 'send resolved before its transaction committed');
    await page.eval(() => window.T.gate('commit'));
    await page.page.waitForFunction(() => window.T.pending.held !== null);
    await page.event({ type: 'message', conv, text: `echo: ${held}` }, 'the echo once committed');
    const first = await page.eval((n) => window.T.log.sent[n], r.before);
    check(first && first.commitsBefore > r.commits, 'a frame went out before the commit');

    // A transaction that fails: nothing is sent, the engine starts again from the disk.
    ctx.expectedConsole.push(/IndexedDB write failed/);
    const lost = text('Écrit quand le disque échoue');
    const a = await page.eval(([c, t]) => {
      window.T.gate();
      const before = window.T.log.sent.length;
      window.T.begin('lost', 'send', c, t);
      return { before, after: window.T.log.sent.length };
    }, [conv, lost]);
    check(a.after === a.before, 'a frame sent before its transaction committed');
    await page.eval(() => window.T.gate('abort'));
    await page.event({ type: 'error', code: 'storage' }, 'the storage error');
    await page.page.waitForFunction(() => window.T.pending.lost !== null);
    check((await page.eval(() => window.T.pending.lost)).error === 'storage', 'the failed send did not fail');
    await page.event({ type: 'status', online: true }, 'online again after the restart');
    const h = await page.call('history', conv);
    check(!h.some((e) => e.text === lost), 'a text whose transaction failed is in the history');
    const after = text('Après l’échec du disque');
    check((await page.call('send', conv, after)).seq > 0, 'send after a storage failure');
    await page.event({ type: 'message', conv, text: `echo: ${after}` }, 'the echo after recovery');
  },

  // The brand's signed guard policy against the page's own: the stricter of
  // the two per category, in the scan the panel shows and in what is sent.
  async policy(ctx) {
    const page = await new Page(ctx).open(ctx.origin);
    // The page's policy: laxer than the brand's for health and e-mail, stricter for phone numbers.
    const guard = { health: 'allow', email: 'allow', phone: 'block', card: 'redact', iban: 'redact',
      nir: 'redact' };
    await page.start({ ...ctx.options, directoryHex: ctx.directoryHex, guard });
    const { conv } = await converse(ctx, page);
    const actions = (scan) => JSON.stringify([scan.action, ...scan.findings.map((f) => `${f.category}:${f.action}`)]);

    const health = text('Je suis diabétique, pouvez-vous livrer au rez-de-chaussée');
    const hs = await page.call('scan', health);
    check(actions(hs) === '["block","health:block"]', `health under the brand's block: ${actions(hs)}`);
    const refused = await page.call('send', conv, health, { confirmed: true });
    check(refused && refused.error === 'guard-block', `health data sent against the brand's block: ${JSON.stringify(refused)}`);

    const address = 'camille.durand@example.org';
    const mail = text(`Écrivez-moi plutôt à ${address} merci`);
    typed.push(address);
    const ms = await page.call('scan', mail);
    check(actions(ms) === '["redact","email:redact"]' && ms.redacted && !ms.redacted.includes(address),
      `an e-mail address under the brand's redact: ${actions(ms)} ${ms.redacted}`);
    const sent = await page.call('send', conv, mail);
    check(sent && sent.seq > 0 && sent.text === ms.redacted, `the e-mail text sent: ${JSON.stringify(sent)}`);
    await page.event({ type: 'message', conv, text: `echo: ${ms.redacted}` }, 'the redacted echo');

    const phone = text('Appelez-moi au 06 12 34 56 78 demain');
    const ps = await page.call('scan', phone);
    check(actions(ps) === '["block","phone:block"]', `a phone number under the page's stricter block: ${actions(ps)}`);
    const card = text('Ma carte 4970 1000 0000 0063 a été débitée deux fois');
    const cs = await page.call('scan', card);
    check(actions(cs) === '["redact","card:redact"]', `a card number, which the brand leaves to the page: ${actions(cs)}`);
    const history = await page.call('history', conv);
    check(!history.some((e) => e.text === health || e.text.includes(address)),
      `refused or redacted texts in the history: ${JSON.stringify(history.map((e) => e.text))}`);
  },

  // Erasure: the relay's copy goes, the relay confirms, then the device's copy goes.
  async erase(ctx) {
    const page = await new Page(ctx).open(ctx.origin);
    await page.start({ ...ctx.options, directoryHex: ctx.directoryHex });
    const { conv } = await converse(ctx, page);
    ctx.agent.pause(); // the agent's envelopes stay at the relay, unread
    const a = await page.call('send', conv, text('Premier message à effacer'));
    const b = await page.call('send', conv, text('Second message à effacer'));
    await page.event({ type: 'receipt', conv, seq: a.seq, kind: 'sent' }, 'the relay storing a');
    await page.event({ type: 'receipt', conv, seq: b.seq, kind: 'sent' }, 'the relay storing b');
    const held = ctx.relay.envelopes(conv);
    check(held.length >= 2, `the relay holds ${held.length} envelope(s) of the conversation`);
    const r = await page.call('erase');
    check(r && r.envelopes >= 2, `erase: ${JSON.stringify(r)}`);
    await page.event({ type: 'erased' }, 'the erased event');
    const left = ctx.relay.envelopes(conv).filter((id) => held.includes(id));
    check(left.length === 0, `the relay still holds ${left.length} of the customer's envelopes`);
    ctx.agent.resume();
    await page.event({ type: 'reset' }, 'the device\'s copy deleted');
    check(!(await page.databases()).includes(BRAND_DB), 'the installation is still in IndexedDB');
    check(await page.call('hasConsent') === false, 'consent kept after erasure');
    check((await page.call('notice')) !== null, 'the notice is gone after erasure');
  },
};

if (!cases[caseName]) {
  console.error(`unknown case ${caseName}; cases: ${Object.keys(cases).join(' ')}`);
  process.exit(2);
}
const ctx = await setUp();
try {
  await cases[caseName](ctx);
} catch (e) {
  failures.push(String(e.stack || e));
  console.error(`FAIL: ${e.stack || e}`);
} finally {
  await tearDown(ctx);
}
check(ctx.pageErrors.length === 0, `the page reported errors:\n  ${ctx.pageErrors.join('\n  ')}`);
const found = [...ctx.found, ...leaks(ctx.relay.files(), typed)];
check(found.length === 0, `typed text in clear at the relay: ${JSON.stringify(found)}`);
console.log(`${caseName}: ${typed.length} typed text(s) searched in ${[...ctx.searched, ...ctx.relay.files()].join(' ')}`);
if (failures.length)
  process.exit(1);
fs.rmSync(ctx.work, { recursive: true, force: true });
console.log(`engine ${caseName}: ok`);
