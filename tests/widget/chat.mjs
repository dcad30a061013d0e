// A conversation with the echo agent: the message sent, its marks going
// from sent to read, the typing indicator, the agent's name and reply,
// the safety-number comparison; then a reload keeps the identity (no
// notice again) and the history, and the conversation goes on until the
// agent closes it. Takes the screenshot README shows.
import path from 'node:path';
import { run, openDemo, accept, type, mine, theirs, status, check } from './ui_harness.mjs';

await run('chat', async (w) => {
  const page = await w.newPage();
  let { frame, inner } = await openDemo(w, page);
  await accept(frame);
  // Whether the typing indicator ever showed, watched from inside the panel:
  // in what each change wrote, since the echo's reply (shown as soon as it
  // is verified) may clear the line in the same task that set it.
  await inner.evaluate(() => {
    window.sawTyping = '';
    new MutationObserver((records) => {
      for (const r of records) {
        const texts = r.type === 'characterData' ? [r.target.data]
          : [...r.addedNodes].map((n) => n.textContent);
        for (const text of texts)
          if (text)
            window.sawTyping = text;
      }
    }).observe(document.getElementById('typing'), { childList: true, characterData: true, subtree: true });
  });
  await type(w, frame, 'Bonjour, my bike chain snapped after 200 km');
  const first = await mine(frame, 'my bike chain snapped');
  await frame.getByText('Waiting for an agent').or(frame.getByText('Alice Martin joined')).first().waitFor();
  await theirs(frame, 'echo: Bonjour, my bike chain snapped after 200 km');
  await status(frame, 'my bike chain snapped', 'sent');
  check(await first.locator('.mark').textContent() !== '◷', 'the sent message is still marked sending');
  await frame.locator('.header .agent', { hasText: 'Alice Martin' }).waitFor();
  check(/Alice Martin is typing/.test(await inner.evaluate(() => window.sawTyping)),
    'the typing indicator never showed');
  check(await frame.locator('.msg.theirs time').count() >= 1, 'no time on the reply');

  // Safety numbers: 12 groups each side; "they match" marks the agent verified.
  await frame.getByRole('button', { name: /Not verified/ }).click();
  const dialog = frame.getByRole('dialog', { name: 'Compare safety numbers' });
  await dialog.waitFor();
  check(await dialog.locator('.fingerprints').nth(0).locator('span').count() === 12, 'not 12 groups of mine');
  check(await dialog.locator('.fingerprints').nth(1).locator('span').count() === 12, 'not 12 groups of the agent\'s');
  await dialog.getByRole('button', { name: 'They match' }).click();
  await frame.getByRole('button', { name: /^Verified/ }).waitFor();

  await type(w, frame, 'The shop is in Lyon, rue Merci 12');
  const second = await mine(frame, 'The shop is in Lyon');
  await theirs(frame, 'echo: The shop is in Lyon');
  // The echo agent reads what arrives once it holds the conversation: the
  // first message (offered to the queue) is read with the later ones.
  await status(frame, 'The shop is in Lyon', 'read');
  await status(frame, 'my bike chain snapped', 'read');
  check(await second.locator('.mark').getAttribute('aria-label') === 'Read', 'the read mark has no label');
  check(await second.locator('.mark').textContent() === '✓✓', 'the read mark is not ✓✓');
  await page.screenshot({ path: path.join(w.artifacts, 'widget-screenshot.png') });

  // Reload: same identity (no notice), same history, the conversation goes on.
  await page.reload();
  ({ frame, inner } = await openDemo(w, page, 'index.html'));
  await mine(frame, 'my bike chain snapped');
  await theirs(frame, 'echo: The shop is in Lyon');
  check(await frame.getByRole('button', { name: /Accept/ }).count() === 0, 'the notice came back after a reload');
  await frame.getByRole('button', { name: /^Verified/ }).waitFor();
  await type(w, frame, 'Still there after a reload?');
  await theirs(frame, 'echo: Still there after a reload?');
  check(await frame.locator('.msg').count() === 6, `${await frame.locator('.msg').count()} messages, not 6`);

  // "bye" makes the echo agent close the conversation: the closed state,
  // and a new conversation offered. ("bye" is not searched at the relay:
  // three letters could match any bytes.)
  await frame.locator('#composer').fill('bye');
  await frame.locator('#composer').press('Enter');
  await frame.locator('#conversation-state', { hasText: 'This conversation is closed.' }).waitFor({ timeout: 60000 });
  await frame.getByRole('button', { name: 'Start a new conversation' }).waitFor();
});
