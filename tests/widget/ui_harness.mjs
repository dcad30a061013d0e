// What every browser test of the chat panel stands on (tests/widget/*.mjs
// besides the engine's): a demo brand, parley-relay on a free port serving
// the built widget from its web root (--web-root, the signed directory
// shipped beside the panel so the notice comes with the page), an echo
// agent (parley-demo --echo-agent), the brand's page served by another
// server on another origin (its frame-ancestors allowed at the relay),
// and Debian's Chromium through playwright-core (tests/widget/harness.mjs).
//
//   node CASE.mjs WEB_ROOT NATIVE_BUILD
//
// Each test calls run(name, async (w) => ...). At the end, whatever the
// outcome, the relay's database, WAL and log are searched for every text
// the test typed in the page (w.typed): one found fails the test.
// Screenshots go to PARLEY_WIDGET_ARTIFACTS (default: the current directory).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadChromium, chromiumArgs, nativePrograms, tempDir, makeBrand, Relay, EchoAgent, serve, leaks,
  PASSPHRASE } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const source = path.resolve(here, '../..');
export const NOTICE = 'Demo Shop keeps this conversation to answer your question. Messages are end-to-end encrypted.\n';

// The demo page (widget/demo/index.html.in) for a language, a widget origin, a relay and a pin.
export function demoPage(lang, widgetOrigin, relayUrl, pin) {
  return fs.readFileSync(path.join(source, 'widget/demo/index.html.in'), 'utf8')
    .replaceAll('@LANG@', lang).replaceAll('@WIDGET_ORIGIN@', widgetOrigin)
    .replaceAll('@RELAY@', relayUrl).replaceAll('@BRAND@', pin);
}

// The policy the brand's page sends (the demo page's own, as a header too).
function hostPolicy(widgetOrigin) {
  return `default-src 'self'; script-src 'self' ${widgetOrigin}; frame-src ${widgetOrigin}; ` +
    "style-src 'self'; img-src 'self' data:";
}

export async function run(name, body, options = {}) {
  const [web, native] = process.argv.slice(2);
  if (!web || !native) {
    console.error(`usage: node ${name}.mjs WEB_ROOT NATIVE_BUILD`);
    process.exit(2);
  }
  const { chromium, chromiumPath } = await loadChromium(name);
  const bins = nativePrograms(name, native);
  if (!fs.existsSync(path.join(web, 'parley-widget.js')))
    throw new Error(`no built widget in ${web}`);

  const dir = tempDir(`parley-panel-${name}`);
  const brand = makeBrand(bins, dir, NOTICE, options.optionalPurposes || [],
    options.queue ? { queue: options.queue } : {});
  const root = path.join(dir, 'web');
  // Times kept: the relay sends a gzip copy only when it is not older than its file.
  fs.cpSync(web, root, { recursive: true, preserveTimestamps: true });
  if (options.shipDirectory !== false)
    fs.writeFileSync(path.join(root, 'parley', 'directory.json'),
      JSON.stringify({ directory: fs.readFileSync(brand.directoryFile).toString('base64') }));
  if (options.newNotice) {
    // The brand signs a new notice after the page shipped the old one; the
    // agent publishes the new directory at the relay.
    fs.writeFileSync(path.join(dir, 'notice.txt'), options.newNotice);
    execFileSync(bins.keys, ['brand', 'directory', '--key', `${dir}/brand.key`, '--out', brand.directoryFile,
      '--force', '--notice', `${dir}/notice.txt`, '--notice-version', '2', '--purpose', 'support',
      '--queue', 'support=alice,bob', '--passphrase-env', 'PARLEY_TEST_PASS', `${dir}/alice.cert`,
      `${dir}/bob.cert`], { env: { ...process.env, PARLEY_TEST_PASS: PASSPHRASE }, stdio: 'pipe' });
  }

  // The brand's page, on its own server; its files are written once the relay's port is known.
  const hostDir = path.join(dir, 'host');
  fs.mkdirSync(hostDir);
  const routes = {
    '/demo/index.html': [path.join(hostDir, 'index.html'), 'text/html; charset=utf-8'],
    '/demo/fr.html': [path.join(hostDir, 'fr.html'), 'text/html; charset=utf-8'],
    // The pin fetched by the loader (data-brand-url) instead of written in the tag.
    '/demo/url.html': [path.join(hostDir, 'url.html'), 'text/html; charset=utf-8'],
    '/demo/brand.client': [path.join(brand.dir, 'brand.client'), 'text/plain; charset=utf-8'],
    '/demo/demo.css': [path.join(source, 'widget/demo/demo.css'), 'text/css'],
  };
  let host = null, relay = null, agent = null, browser = null, failed = null;
  const others = []; // agents started by ID (w.startAgent('bob'))
  const w = { name, dir, brand, pin: brand.pin, typed: [], errors: [],
    artifacts: process.env.PARLEY_WIDGET_ARTIFACTS || process.cwd() };
  try {
    let policy = "default-src 'none'";
    host = await serve(routes, () => policy);
    relay = new Relay(bins, brand, dir, ['--web-root', root,
      '--web-frame-ancestors', `'self' ${host.origin}`]);
    await relay.start();
    w.widgetOrigin = `http://127.0.0.1:${relay.port}`;
    w.relayUrl = relay.url;
    w.pageOrigin = host.origin;
    policy = hostPolicy(w.widgetOrigin);
    for (const [file, lang] of [['index.html', 'en'], ['fr.html', 'fr']])
      fs.writeFileSync(path.join(hostDir, file), demoPage(lang, w.widgetOrigin, relay.url, brand.pin));
    fs.writeFileSync(path.join(hostDir, 'url.html'), demoPage('en', w.widgetOrigin, relay.url, brand.pin)
      .replace(`data-brand="${brand.pin}"`, 'data-brand-url="brand.client"'));

    w.startRelay = () => relay.restart();
    w.stopRelay = () => relay.stop();
    w.startAgent = async (id) => {
      if (id)
        others.push(await new EchoAgent(bins, brand, relay, id).start());
      else
        agent = await new EchoAgent(bins, brand, relay).start();
    };
    w.stopAgent = async () => { if (agent) await agent.stop(); agent = null; };
    w.agentOutput = () => (agent ? agent.output : '');
    w.sql = (query) => execFileSync('sqlite3', [`file:${relay.db}?mode=ro`, query], { encoding: 'utf8' }).trim();
    if (options.agent !== false)
      await w.startAgent();

    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs(),
      timeout: 60000 });
    w.browser = browser;
    w.newPage = async (opts = {}) => {
      const context = await browser.newContext({ viewport: opts.viewport || { width: 1000, height: 720 },
        acceptDownloads: true });
      const page = await context.newPage();
      page.on('pageerror', (e) => w.errors.push(`page error: ${e}`));
      page.on('console', (m) => {
        // Browsers ask every page for a favicon; the demo pages have none.
        if (m.type() === 'error' && !/\/favicon\.ico$/.test(m.location().url || '') &&
            !(options.expectedConsole || []).some((re) => re.test(m.text())))
          w.errors.push(`console: ${m.text()} (${m.location().url})`);
      });
      return page;
    };
    await body(w);
    if (w.errors.length)
      throw new Error(`the pages reported errors:\n  ${w.errors.join('\n  ')}`);
  } catch (e) {
    failed = e;
  } finally {
    if (browser)
      await browser.close().catch(() => {});
    if (agent)
      await agent.stop();
    for (const a of others)
      await a.stop();
  }
  // Nothing typed in the page may be readable at the relay: its files are
  // searched while it runs (sqlite folds the WAL into the database and
  // removes it, with the shared memory, when the relay stops) and after.
  const searched = relay && relay.child ? relay.files() : [];
  const found = leaks(searched, w.typed);
  if (relay)
    await relay.stop();
  if (host)
    host.close();
  const files = [...new Set([...searched, ...(relay ? relay.files() : [])])];
  found.push(...leaks(relay ? relay.files() : [], w.typed));
  if (found.length && !failed)
    failed = new Error(`typed text in clear at the relay:\n  ${found.map((f) => `${f.file}: ${f.text}`).join('\n  ')}`);
  if (failed) {
    console.error(`FAIL ${name}: ${failed.stack || failed}\n(files kept in ${dir})`);
    process.exit(1);
  }
  console.log(`${name}: ok (${w.typed.length} typed texts searched in ${files.map((f) => path.basename(f)).join(', ')})`);
  fs.rmSync(dir, { recursive: true, force: true });
}

// ---- What a customer does in the page ----

export const launcherSelector = '[data-parley-widget] >> button.launcher';

// Opens a demo page (another origin than the widget's) and returns the
// launcher and the panel's frame; the panel has started its engine.
// ready: false returns without waiting for the engine to have started.
export async function openDemo(w, page, file = 'index.html', { click = true, ready = true } = {}) {
  await page.goto(`${w.pageOrigin}/demo/${file}`);
  const launcher = page.locator(launcherSelector);
  const frame = page.frameLocator('[data-parley-widget] iframe');
  if (click)
    await launcher.click();
  const handle = await page.locator('[data-parley-widget] iframe').elementHandle();
  const inner = await handle.contentFrame();
  if (ready)
    await inner.waitForFunction(() => window.parleyPanel && window.parleyPanel.ready, null, { timeout: 60000 });
  return { launcher, frame, inner };
}

export async function accept(frame) {
  await frame.getByRole('button', { name: /^(Accept|Accepter)/ }).click();
  await frame.locator('#composer').waitFor({ timeout: 30000 });
}

// Types text in the composer and sends it with Enter; remembers it for
// the search at the relay.
export async function type(w, frame, text) {
  w.typed.push(text);
  await frame.locator('#composer').fill(text);
  await frame.locator('#composer').press('Enter');
}

export async function mine(frame, text) {
  const li = frame.locator('.msg.mine', { has: frame.locator('.bubble', { hasText: text }) });
  await li.waitFor({ timeout: 30000 });
  return li;
}

export async function theirs(frame, text, timeout = 60000) {
  const li = frame.locator('.msg.theirs', { has: frame.locator('.bubble', { hasText: text }) });
  await li.waitFor({ timeout });
  return li;
}

// Resolves when my message holding text has reached status (sent, delivered, read).
export async function status(frame, text, wanted, timeout = 60000) {
  const order = ['sending', 'sent', 'delivered', 'read'];
  const reached = order.slice(order.indexOf(wanted)).map((s) => `[data-status="${s}"]`).join(', ');
  await frame.locator(`.msg.mine:is(${reached})`, { has: frame.locator('.bubble', { hasText: text }) })
    .waitFor({ timeout });
}

export function check(ok, what) {
  if (!ok)
    throw new Error(what);
}
