// The memory of the page with a long conversation in the chat panel, as a
// customer has it: the brand's page on one origin, the widget's panel from
// parley-relay --web-root on another (tests/widget/ui_harness.mjs), a
// conversation of MESSAGES messages typed in the panel (half the
// customer's, half the echo agent's answers), all shown.
//   node bench/widget/memory.mjs WEB_ROOT NATIVE_BUILD [MESSAGES] [RUNS]
// Measured, after a garbage collection, with the panel open: the JavaScript
// heap used (the page and the panel share one renderer: both are served
// from 127.0.0.1), the DOM nodes, and the resident memory of that renderer
// process, all and anonymous (the
// process's own, with the wasm module's linear memory; the rest is mostly
// Chromium's code, shared with its other processes); for the
// conversation's first message, for all of them, and for a returning
// customer reloading the page with them. Prints Markdown, medians of RUNS
// measurements of each state.
import fs from 'node:fs';
import { run, openDemo, accept, theirs } from '../../tests/widget/ui_harness.mjs';

const total = Number(process.argv[4] || 1000);
const runs = Number(process.argv[5] || 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (b) => (b / 1048576).toFixed(1);

// The browser's renderer processes' pids (SystemInfo gives them), but the browser's own UI's.
async function renderers(browserCdp) {
  const { processInfo } = await browserCdp.send('SystemInfo.getProcessInfo');
  return processInfo.filter((p) => p.type === 'renderer' &&
    !fs.readFileSync(`/proc/${p.id}/cmdline`, 'utf8').includes('--top-chrome-webui')).map((p) => p.id);
}

// Resident bytes (all, and anonymous: the process's own, the wasm memory among them) of pids.
function resident(pids) {
  let rss = 0, anon = 0;
  for (const pid of pids) {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    rss += Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
    anon += Number(/RssAnon:\s+(\d+) kB/.exec(status)[1]) * 1024;
  }
  return { rss, anon };
}

// pids: the page's renderer (the brand's page and the panel's frame).
async function measure(page, cdp, pids) {
  const heaps = [], nodes = [], rss = [], anon = [];
  for (let i = 0; i < runs; i++) {
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    heaps.push(metrics.find((m) => m.name === 'JSHeapUsedSize').value);
    nodes.push(metrics.find((m) => m.name === 'Nodes').value);
    const r = resident(pids);
    rss.push(r.rss);
    anon.push(r.anon);
    await page.waitForTimeout(200);
  }
  return { heap: median(heaps), nodes: median(nodes), rss: median(rss), anon: median(anon) };
}

const rows = [];
let exchangeMs = 0;
await run('memory', async (w) => {
  const browserCdp = await w.browser.newBrowserCDPSession();
  const before = await renderers(browserCdp);
  const page = await w.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  let { frame } = await openDemo(w, page);
  // The page and its panel share one renderer (same site, 127.0.0.1); Chromium may start
  // others beside it (a spare one, its own UI's): the page's is the one holding the most.
  const fresh = (await renderers(browserCdp)).filter((p) => !before.includes(p));
  if (fresh.length === 0)
    throw new Error('no renderer process appeared with the page');
  const pids = [fresh.reduce((a, b) => (resident([a]).anon >= resident([b]).anon ? a : b))];
  await accept(frame);
  const text = (i) => `Message ${i}: où en est ma commande passée la semaine dernière ?`;
  const send = async (i) => {
    await frame.locator('#composer').fill(text(i));
    await frame.locator('#composer').press('Enter');
    await frame.locator('.msg.mine').nth(i).waitFor({ timeout: 60000 });
  };
  await send(0);
  await theirs(frame, `echo: ${text(0)}`);
  rows.push(['the first message and its answer', await measure(page, cdp, pids)]);
  const started = Date.now();
  for (let i = 1; i < total / 2; i++)
    await send(i);
  await theirs(frame, `echo: ${text(total / 2 - 1)}`, 600000);
  exchangeMs = Date.now() - started;
  const shown = await frame.locator('.msg').count();
  if (shown !== total)
    throw new Error(`${shown} messages shown, not ${total}`);
  rows.push([`${total} messages shown`, await measure(page, cdp, pids)]);
  await page.reload();
  ({ frame } = await openDemo(w, page));
  await theirs(frame, `echo: ${text(total / 2 - 1)}`);
  rows.push([`${total} messages, after a reload (returning customer)`, await measure(page, cdp, pids)]);
});

console.log(`| the panel open with | JS heap used (MiB) | DOM nodes | the page's renderer: resident (MiB) | of which its own (anonymous, MiB) |`);
console.log('|---|---:|---:|---:|---:|');
for (const [what, m] of rows)
  console.log(`| ${what} | ${mib(m.heap)} | ${m.nodes} | ${mib(m.rss)} | ${mib(m.anon)} |`);
console.log(`\nThe ${total / 2} messages typed in the panel one after the other, each answered by the echo agent: ` +
  `${(exchangeMs / 1000).toFixed(0)} s.`);
