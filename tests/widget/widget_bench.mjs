// The widget engine's figures for bench/widget and docs/performance.md:
//  - the transferred size of parley-widget.js + parley-widget.wasm (gzip -9);
//  - seal and open per message in Chromium beside native, the same C
//    (bench/crypto/bench_crypto.c) on the same texts, wall clock, run one
//    after the other on this machine, with the browser/native ratio;
//  - the time to start a session in the page (Argon2id unlocking the store);
//  - the page's memory with a conversation of --messages messages (default
//    1,000) exchanged with an echo agent through the engine, and what
//    reading that history and starting the engine again take.
// The pages come from parley-relay's web root, as the widget does.
// A measurement, not a test:
//   node tests/widget/widget_bench.mjs [BUILD_DIR] [--batches N] [--ops N] [--messages N]
// BUILD_DIR is the native build (default build) with the browser build in BUILD_DIR/wasm.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import {
  loadChromium, chromiumArgs, nativePrograms, tempDir, makeBrand, Relay, EchoAgent, engineWebRoot,
} from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const build = path.resolve(args[0] && !args[0].startsWith('--') ? args.shift() : 'build');
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const conversationSize = Number(opt('--messages', '1000'));
const cryptoArgs = ['--batches', opt('--batches', '7'), '--ops', opt('--ops', '1000'), '--clock', 'wall'];
const moduleJs = path.join(build, 'wasm', 'widget', 'parley-widget.js');
const benchJs = path.join(build, 'wasm', 'tests', 'widget', 'bench-crypto-web.js');
const nativeBench = path.join(build, 'bench', 'crypto', 'bench-crypto');
for (const f of [moduleJs, benchJs, nativeBench])
  if (!fs.existsSync(f)) {
    console.error(`widget_bench: ${f} is missing: build with scripts/test.sh or scripts/wasm-build.sh`);
    process.exit(1);
  }

// Sizes.
const size = (f) => {
  const bytes = fs.readFileSync(f);
  return { bytes: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
};
const js = size(moduleJs);
const wasm = size(moduleJs.replace(/\.js$/, '.wasm'));
console.log('## Widget module size (gzip -9)\n');
console.log('| file | bytes | gzip |\n|---|---:|---:|');
console.log(`| parley-widget.js | ${js.bytes} | ${js.gzip} |`);
console.log(`| parley-widget.wasm | ${wasm.bytes} | ${wasm.gzip} |`);
const total = js.gzip + wasm.gzip;
console.log(`| together | ${js.bytes + wasm.bytes} | ${total} (${(total / 1024).toFixed(1)} KiB; goal <= 300 KiB: ${total <= 300 * 1024 ? 'met' : 'not met'}) |\n`);
console.log('Transferred: about the gzip column, since parley-relay sends the build\'s gzip copies (NAME.gz) to');
console.log('browsers that accept gzip, as a CDN would (what a first visit transfers is measured above);');
console.log(`the bytes column (${((js.bytes + wasm.bytes) / 1024).toFixed(1)} KiB) to those that do not.\n`);

// The browser side: the page, the engine and the benchmark served by
// parley-relay from its web root, as the widget is.
const { chromium, chromiumPath } = await loadChromium('widget bench');
const work = tempDir('parley-widget-bench');
const bins = nativePrograms('widget bench', build);
const brand = makeBrand(bins, work, 'Bench Shop.\n');
const webRoot = engineWebRoot(path.join(work, 'web'), root, moduleJs, {
  'index.html': path.join(here, 'bench-page.html'),
  'bench-page.js': path.join(here, 'bench-page.js'),
  'bench-crypto-web.js': benchJs,
  'bench-crypto-web.wasm': benchJs.replace(/\.js$/, '.wasm'),
  'engine-test.html': path.join(here, 'engine-test.html'),
  'engine-test.js': path.join(here, 'engine-test.js'),
});
const relay = await new Relay(bins, brand, work, ['--web-root', webRoot]).start();

// The page's memory with a conversation of conversationSize messages (half
// the customer's, half the echo agent's answers), through the engine as the
// panel uses it: JavaScript heap after a garbage collection (CDP) and the
// module's linear memory; then what reading the history and starting the
// engine again from IndexedDB take.
async function conversationMemory(browser) {
  const agent = await new EchoAgent(bins, brand, relay).start();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${relay.port}/engine-test.html`);
    await page.waitForFunction(() => window.engineTestReady === true);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const measure = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      const heap = metrics.find((m) => m.name === 'JSHeapUsedSize').value;
      return { jsHeap: heap, wasm: await page.evaluate(() => window.T.wasmBytes()) };
    };
    const options = { relay: relay.url, pin: brand.pin,
      directoryHex: fs.readFileSync(brand.directoryFile).toString('hex') };
    await page.evaluate((o) => window.T.start(o), options);
    await page.evaluate(() => window.T.call('consent', ['support']));
    const conv = await page.evaluate(() => window.T.call('open', 'support', 'Bonjour, message 0'));
    if (typeof conv !== 'string')
      throw new Error(`open: ${JSON.stringify(conv)}`);
    const empty = await measure();
    const started = Date.now();
    // At a conversation's pace: each message once the previous one is answered (sent
    // all at once, they would fill the echo agent's outbox faster than the relay takes it).
    await page.evaluate(async ([c, n]) => {
      const answers = () => window.T.log.events.filter((e) => e.type === 'message' && !e.fromMe).length;
      for (let i = 1; i < n; i++) {
        const deadline = Date.now() + 60000;
        while (answers() < i) {
          if (Date.now() > deadline)
            throw new Error(`no answer to message ${i - 1} within 60 s`);
          await new Promise((r) => setTimeout(r, 20));
        }
        const r = await window.T.call('send', c, `Message ${i}: où en est ma commande passée la semaine dernière ?`);
        if (r.error)
          throw new Error(`send ${i}: ${r.error}`);
      }
    }, [conv, conversationSize / 2]);
    await page.waitForFunction((n) => window.T.log.events.filter((e) => e.type === 'message' &&
      !e.fromMe).length >= n, conversationSize / 2, { timeout: 600000, polling: 500 });
    const exchangeMs = Date.now() - started;
    const full = await measure();
    const historyMs = await page.evaluate((c) => {
      const t0 = performance.now();
      return window.T.call('history', c).then((h) => ({ n: h.length, ms: performance.now() - t0 }));
    }, conv);
    await page.reload();
    await page.waitForFunction(() => window.engineTestReady === true);
    const t0 = Date.now();
    await page.evaluate((o) => window.T.start(o), { relay: relay.url, pin: brand.pin });
    const restartMs = Date.now() - t0;
    const reloaded = await measure();
    return { empty, full, reloaded, exchangeMs, history: historyMs, restartMs };
  } finally {
    await context.close();
    await agent.stop();
  }
}
const pin = brand.pin;
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs() });
let result;
try {
  const page = await browser.newPage();
  const query = encodeURIComponent(JSON.stringify({ cryptoArgs, sessionRuns: 5, pin }));
  await page.goto(`http://127.0.0.1:${relay.port}/#${query}`);
  await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 600000 });
  result = await page.evaluate(() => window.benchResult);
  result.memory = await conversationMemory(browser);
} finally {
  await browser.close();
  await relay.stop();
}
fs.rmSync(work, { recursive: true, force: true });
if (result.error) {
  console.error(`widget_bench: the page failed: ${result.error}`);
  process.exit(1);
}
const native = execFileSync(nativeBench, cryptoArgs, { encoding: 'utf8' }).split('\n');

// "| operation | text | median (min-max) | ..." rows of bench-crypto's table.
const rows = (lines) => lines.filter((l) => /^\| (seal|open)/.test(l)).map((l) => {
  const c = l.split('|').map((s) => s.trim());
  return { what: c[1], text: c[2], ns: Number(c[3].split(' ')[0]) };
});
const web = rows(result.crypto);
const nat = rows(native);
console.log(`## Seal and open per message: Chromium beside native\n`);
console.log(`bench/crypto/bench_crypto.c in both, ${cryptoArgs.join(' ')}; browser: ${result.userAgent}`);
console.log(`native: ${native[0]}\nbrowser: ${result.crypto[0]}\n`);
console.log('| operation | text | native µs/op | Chromium µs/op | Chromium / native |\n|---|---:|---:|---:|---:|');
web.forEach((w, i) => {
  const n = nat[i];
  console.log(`| ${w.what} | ${w.text} | ${(n.ns / 1000).toFixed(1)} | ${(w.ns / 1000).toFixed(1)} | ${(w.ns / n.ns).toFixed(2)} |`);
});
const ms = [...result.sessionStartMs].sort((a, b) => a - b);
console.log(`\n## Session start in the page (Argon2id 64 MiB unlocking a new store, identity made)\n`);
console.log(`median ${ms[Math.floor(ms.length / 2)].toFixed(0)} ms over ${ms.length} runs (${ms.map((t) => t.toFixed(0)).join(', ')})`);

const m = result.memory;
const mib = (b) => (b / 1048576).toFixed(1);
console.log(`\n## The page with a ${m.history.n}-message conversation (engine, no panel)\n`);
console.log('| state | JS heap used (MiB) | module memory (MiB) |\n|---|---:|---:|');
console.log(`| one message | ${mib(m.empty.jsHeap)} | ${mib(m.empty.wasm)} |`);
console.log(`| ${m.history.n} messages | ${mib(m.full.jsHeap)} | ${mib(m.full.wasm)} |`);
console.log(`| ${m.history.n} messages, after a reload | ${mib(m.reloaded.jsHeap)} | ${mib(m.reloaded.wasm)} |`);
console.log(`\nexchange of ${m.history.n} messages with the echo agent: ${(m.exchangeMs / 1000).toFixed(1)} s; ` +
  `engine.history() of ${m.history.n}: ${m.history.ms.toFixed(0)} ms; ` +
  `startEngine() after the reload (IndexedDB read and decrypted, session unlocked): ${m.restartMs} ms`);
