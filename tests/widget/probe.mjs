// A page that ships no privacy notice, and whose tag names the brand's
// pin by URL (data-brand-url) rather than carrying it: the panel contacts the relay only
// once the customer opens the chat, says first what it is about to do
// (fetch the brand's signed directory from the relay, nothing about the
// customer sent), then shows the notice it verified; consent and a
// conversation follow as usual.
import { run, openDemo, accept, type, theirs, check } from './ui_harness.mjs';

await run('probe', async (w) => {
  const page = await w.newPage();
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  // The panel looks for a shipped directory at once (none: 404), then waits.
  const looked = page.waitForResponse((r) => /\/parley\/directory\.json$/.test(r.url()));
  // This page gives the loader the pin's URL (data-brand-url), not the pin.
  const { inner, frame } = await openDemo(w, page, 'url.html', { click: false, ready: false });
  check((await looked).status() === 404, 'the panel did not look for a shipped directory');
  // The panel waits for the customer, the engine not started.
  await inner.waitForFunction(() => window.parleyPanel && window.parleyPanel.waitingForOpen);
  check(sockets.length === 0, `the relay was contacted before the chat was opened: ${sockets}`);

  await inner.evaluate(() => {
    window.sawFetching = false;
    new MutationObserver(() => {
      if (/did not ship/.test(document.body.textContent))
        window.sawFetching = true;
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  await page.locator('[data-parley-widget] >> button.launcher').click();
  await frame.getByText('Demo Shop keeps this conversation').waitFor({ timeout: 60000 });
  check(await inner.evaluate(() => window.sawFetching), 'the panel never said it fetches the notice from the relay');
  check(sockets.length >= 1 && sockets.every((u) => u === w.relayUrl), `WebSockets: ${sockets}`);
  await accept(frame);
  await type(w, frame, 'Hello after fetching the notice');
  await theirs(frame, 'echo: Hello after fetching the notice');
}, {
  shipDirectory: false,
  // Chromium logs the panel's look for a directory that was not shipped.
  expectedConsole: [/status of 404/],
});
