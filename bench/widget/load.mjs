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
// Argon2id). Prints a Markdown table of medians and the gzip size of all
// the widget's files a first visit fetches.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
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

const rows = [];
await run('bench', async (w) => {
  const url = `${w.pageOrigin}/demo/index.html`;
  const first = [];
  for (let i = 0; i < runs; i++) {
    const page = await w.newPage();
    first.push(await measure(page, url));
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

let bytes = 0, gzip = 0;
const web = process.argv[2];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) {
      walk(f);
    } else {
      const b = fs.readFileSync(f);
      bytes += b.length;
      gzip += zlib.gzipSync(b, { level: 9 }).length;
    }
  }
};
walk(web);
console.log('| page load | runs | loader arrived (ms) | panel ready (ms) | script to ready (ms, median) |');
console.log('|---|---:|---:|---:|---:|');
console.log(rows.join('\n'));
console.log(`\nEverything a first visit fetches from the widget's origin (loader, panel, engine, module): ` +
  `${bytes} bytes, ${gzip} gzip -9 (${(gzip / 1024).toFixed(1)} KiB).`);
