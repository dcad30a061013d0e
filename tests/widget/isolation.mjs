// The host page (http://localhost) and the widget (http://127.0.0.1) are
// two origins. A script on the host page, running from the start, reads
// every message posted to the page and tries the frame's document, its
// storage and forged requests: it learns neither the conversation nor
// anything stored. The widget's own origin does hold its store.
import { run, openDemo, accept, type, theirs, check } from './ui_harness.mjs';

await run('isolation', async (w) => {
  const page = await w.newPage();
  await page.addInitScript(() => {
    window.spied = [];
    window.addEventListener('message', (e) => window.spied.push(JSON.stringify(e.data)), true);
  });
  const { frame, inner } = await openDemo(w, page);
  await accept(frame);
  const secret = 'My confidential order 77431 for the red tandem';
  await type(w, frame, secret);
  await theirs(frame, `echo: ${secret}`);

  const seen = await page.evaluate(async () => {
    const out = {};
    const host = document.querySelector('[data-parley-widget]');
    const iframe = host.shadowRoot.querySelector('iframe');
    try {
      out.document = iframe.contentWindow.document.body.innerText;
    } catch (e) {
      out.document = `refused: ${e.name}`;
    }
    out.contentDocument = iframe.contentDocument === null ? 'null' : 'readable';
    try {
      out.storage = iframe.contentWindow.localStorage.length;
    } catch (e) {
      out.storage = `refused: ${e.name}`;
    }
    out.databases = (await indexedDB.databases()).map((d) => d.name);
    out.local = Object.keys(localStorage).concat(Object.keys(sessionStorage));
    out.cookies = document.cookie;
    out.pageText = document.documentElement.innerText + host.shadowRoot.textContent;
    out.src = iframe.src;
    // Forged requests from the page: the panel answers none of them.
    for (const type of ['export', 'history', 'open', 'ready'])
      iframe.contentWindow.postMessage({ protocol: 'parley-widget-1', type }, '*');
    await new Promise((r) => setTimeout(r, 500));
    out.spied = window.spied;
    return out;
  });
  check(seen.document === 'refused: SecurityError', `the frame's document: ${seen.document}`);
  check(seen.contentDocument === 'null', 'contentDocument is readable');
  check(seen.storage === 'refused: SecurityError', `the frame's localStorage: ${seen.storage}`);
  check(seen.databases.length === 0, `IndexedDB databases on the host page: ${seen.databases}`);
  check(seen.local.length === 0 && seen.cookies === '', 'the host page has storage entries or cookies');
  for (const where of ['pageText', 'src', 'spied'])
    check(!JSON.stringify(seen[where]).includes('77431') && !JSON.stringify(seen[where]).includes('tandem'),
      `the conversation reached the host page (${where})`);
  // What the panel tells the page: ready, attention, close; nothing else.
  check(seen.spied.length >= 1 &&
    seen.spied.every((m) => /^\{"protocol":"parley-widget-1","type":"(ready|attention|close)"\}$/.test(m)),
  `unexpected messages on the host page: ${seen.spied}`);
  // The widget's origin does have its store (so the check above means something).
  const own = await inner.evaluate(async () => (await indexedDB.databases()).length);
  check(own >= 1, 'the widget keeps no IndexedDB database in its own origin');
});
