// Time from the loader script's arrival to an interactive chat panel, in
// headless Chromium on this machine, the way a customer meets the widget:
// the brand's page on one origin, the widget served by parley-relay
// --web-root on another (tests/widget/ui_harness.mjs sets them up).
//   node bench/widget/load.mjs WEB_ROOT NATIVE_BUILD [RUNS]
// Each run loads the page afresh and measures, on the page's clock:
//   script: when parley-widget.js (the loader) finished arriving;
//   ready:  when the panel became interactive (the notice, or the chat,
//           drawn and answering; the engine started: module compiled, store opened);
// for a first visit (a new browser profile: the notice) and for a returning
// customer (consent given: the engine opens the encrypted store, with
// Argon2id). Prints a Markdown table of medians, and what a first visit
// transferred from the widget's origin (bodies as sent, gzip where the
// relay had a copy, and headers), beside the files' own sizes.
import fs from 'node:fs';
import path from 'node:path';
import { run, openDemo, accept } from '../../tests/widget/ui_harness.mjs';

const runs = Number(process.argv[4] || 5);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// On the page's clock, from navigation start: when the loader finished
// arriving, and when the panel (another origin, another clock) became
// interactive, converted through the two clocks' epoch origins.
async function measure(page, url) {
  await page.goto(url);
  const handle = await page.locator('[data-parley-widget] iframe').elementHandle();
  const frame = await handle.contentFrame();
  await frame.waitForFunction(() => window.parleyPanel && window.parleyPanel.ready, null, { timeout: 120000 });
  const ready = await frame.evaluate(() => window.parleyPanel.at);
  return page.evaluate((at) => {
    const loader = performance.getEntriesByType('resource').find((r) => /\/parley-widget\.js$/.test(r.name));
    return { script: loader.responseEnd, ready: at - performance.timeOrigin };
  }, ready);
}

// What the page's context fetched from origin: {path: {body, headers, encoding}}, as the
// browser counted the bytes on the wire (the body as sent, compressed or not).
function transfers(context, origin) {
  const got = {};
  context.on('requestfinished', async (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin)
      return;
    const [sizes, response] = await Promise.all([request.sizes(), request.response()]);
    got[url.pathname] = { body: sizes.responseBodySize, headers: sizes.responseHeadersSize,
      encoding: (await response.allHeaders())['content-encoding'] || 'none' };
  });
  return got;
}

const rows = [];
const firstTransfers = [];
await run('bench', async (w) => {
  const url = `${w.pageOrigin}/demo/index.html`;
  const first = [];
  for (let i = 0; i < runs; i++) {
    const page = await w.newPage();
    const got = transfers(page.context(), w.widgetOrigin);
    first.push(await measure(page, url));
    await page.waitForTimeout(500); // the last sizes come in after the panel is ready
    firstTransfers.push(got);
    await page.context().close();
  }
  const page = await w.newPage();
  const { frame } = await openDemo(w, page);
  await accept(frame);
  const returning = [];
  for (let i = 0; i < runs; i++)
    returning.push(await measure(page, url));
  for (const [name, list] of [['first visit (notice shown)', first], ['returning customer (store opened)', returning]])
    rows.push(`| ${name} | ${list.length} | ${median(list.map((m) => m.script)).toFixed(0)} | ` +
      `${median(list.map((m) => m.ready)).toFixed(0)} | ${median(list.map((m) => m.ready - m.script)).toFixed(0)} |`);
});

// The widget's files on disk (not their .gz copies), by path under the web root.
const web = process.argv[2];
const onDisk = {};
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory())
      walk(f);
    else if (!e.name.endsWith('.gz'))
      onDisk[`/${path.relative(web, f)}`] = fs.statSync(f).size;
  }
};
walk(web);
console.log('| page load | runs | loader arrived (ms) | panel ready (ms) | script to ready (ms, median) |');
console.log('|---|---:|---:|---:|---:|');
console.log(rows.join('\n'));

// The first visit's transfers: the same files each time; the run with the median total.
const total = (t) => Object.values(t).reduce((a, x) => a + x.body + x.headers, 0);
const sorted = [...firstTransfers].sort((a, b) => total(a) - total(b));
const t = sorted[Math.floor(sorted.length / 2)];
const kib = (b) => (b / 1024).toFixed(1);
const sum = (names, f) => names.reduce((a, n) => a + f(n), 0);
const names = Object.keys(t).sort();
const module = names.filter((n) => /\/parley-widget\.(js|wasm)$/.test(n) && n.startsWith('/parley/engine/'));
console.log(`\n#### What a first visit transfers from the widget's origin\n`);
console.log('Bytes as the browser received them (playwright `request.sizes()`): the body as sent,');
console.log('gzip when the relay had a `.gz` copy and the browser accepts it, and the response headers.\n');
console.log('| file | on disk | body transferred | headers | encoding |\n|---|---:|---:|---:|---|');
for (const n of names)
  console.log(`| \`${n}\` | ${onDisk[n] ?? '—'} | ${t[n].body} | ${t[n].headers} | ${t[n].encoding} |`);
const disk = sum(names, (n) => onDisk[n] || 0);
console.log(`| all ${names.length} answers | ${disk} | ${sum(names, (n) => t[n].body)} | ` +
  `${sum(names, (n) => t[n].headers)} | |`);
console.log(`\nFirst visit: ${total(t)} bytes transferred (${kib(total(t))} KiB; the same files sent as they are: ` +
  `${kib(disk)} KiB of bodies). The module, parley-widget.js + .wasm: ` +
  `${sum(module, (n) => t[n].body + t[n].headers)} bytes (${kib(sum(module, (n) => t[n].body + t[n].headers))} KiB; ` +
  `goal <= 300 KiB: ${sum(module, (n) => t[n].body + t[n].headers) <= 300 * 1024 ? 'met' : 'not met'}).`);
