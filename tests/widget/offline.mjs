// The relay goes away: the panel says it is reconnecting, a message typed
// meanwhile is kept (marked sending), and once the relay is back it is
// delivered and answered, shown once.
import { run, openDemo, accept, type, mine, theirs, status, check } from './ui_harness.mjs';

await run('offline', async (w) => {
  const page = await w.newPage();
  const { frame } = await openDemo(w, page);
  await accept(frame);
  await type(w, frame, 'First question before the outage');
  await theirs(frame, 'echo: First question before the outage');

  await w.stopRelay();
  await frame.locator('#connection', { hasText: /Reconnecting|Offline/ }).waitFor({ timeout: 30000 });
  await type(w, frame, 'Typed while the relay was down');
  const queued = await mine(frame, 'Typed while the relay was down');
  check(await queued.getAttribute('data-status') === 'sending', 'the queued message is not marked sending');
  check(await frame.locator('#composer').inputValue() === '', 'the composer was not cleared');

  await w.startRelay();
  await status(frame, 'Typed while the relay was down', 'delivered', 90000);
  await theirs(frame, 'echo: Typed while the relay was down', 90000);
  check(await frame.locator('.msg.mine', { hasText: 'Typed while the relay was down' }).count() === 1,
    'the queued message is shown twice');
  await frame.locator('#connection:empty').waitFor({ state: 'attached', timeout: 30000 });
}, {
  // Chromium logs each refused connection while the relay is down.
  expectedConsole: [/^WebSocket connection to .* failed/],
});
