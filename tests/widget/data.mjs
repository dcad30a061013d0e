// The customer's rights from the panel: "Download my data" saves the
// export JSON (valid, with the conversation in it); "Erase my data", once
// confirmed, shows the relay's confirmation, the relay's database no
// longer holds any of the envelopes it held for the customer, and the
// device's own store goes too: after a reload, no identity (the notice
// again) and no history.
import fs from 'node:fs';
import { run, openDemo, accept, type, mine, theirs, status, check } from './ui_harness.mjs';

// The widget's IndexedDB databases, seen from inside its frame (its origin).
const stores = (inner) => inner.evaluate(async () =>
  (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith('parley-widget/')));

await run('data', async (w) => {
  const page = await w.newPage();
  let { frame, inner } = await openDemo(w, page);
  await accept(frame);
  await type(w, frame, 'Please keep a record of this question');
  await theirs(frame, 'echo: Please keep a record of this question');

  await frame.getByRole('button', { name: 'More actions' }).click();
  const downloading = page.waitForEvent('download', { timeout: 30000 });
  await frame.getByRole('menuitem', { name: 'Download my data' }).click();
  const download = await downloading;
  check(/^parley-export-.*\.json$/.test(download.suggestedFilename()), `file name ${download.suggestedFilename()}`);
  const exported = fs.readFileSync(await download.path(), 'utf8');
  const parsed = JSON.parse(exported);
  check(parsed && typeof parsed === 'object', 'the export is not a JSON object');
  check(exported.includes('Please keep a record of this question'), 'the export lacks the conversation');
  await frame.getByText(/Your data was saved as parley-export-/).waitFor();

  // With the agent gone, what the customer sends stays at the relay.
  await w.stopAgent();
  await type(w, frame, 'A message the agent never collects');
  await status(frame, 'A message the agent never collects', 'sent');
  const held = w.sql('SELECT hex(envelope_id) FROM envelopes').split('\n').filter(Boolean);
  const before = held.length;
  check(before >= 1, 'the relay holds no envelope before the erasure');

  await frame.getByRole('button', { name: 'More actions' }).click();
  await frame.getByRole('menuitem', { name: 'Erase my data' }).click();
  const dialog = frame.getByRole('dialog', { name: 'Erase my data?' });
  await dialog.getByRole('button', { name: 'Erase', exact: true }).click();
  const confirmed = frame.locator('#erased');
  await confirmed.waitFor({ timeout: 60000 });
  const said = await confirmed.textContent();
  const count = Number((/(\d+) message/.exec(said) || [])[1]);
  check(count >= before, `the relay confirmed ${count} envelopes, it held ${before}: ${said}`);
  // What stays is only what the erasure itself sent: its sealed notice to the agent.
  const left = w.sql('SELECT hex(envelope_id) FROM envelopes').split('\n').filter((id) => held.includes(id));
  check(left.length === 0, `${left.length} of the customer's envelopes left at the relay after the erasure`);
  check(await frame.locator('.msg').count() === 0, 'the conversation is still shown after the erasure');

  // The device's copy: deleted once the relay confirmed and the erasure's own envelope left.
  const deadline = Date.now() + 60000;
  while ((await stores(inner)).length > 0) {
    check(Date.now() < deadline, `the widget's store is still on the device: ${await stores(inner)}`);
    await page.waitForTimeout(200);
  }
  await page.reload();
  ({ frame, inner } = await openDemo(w, page));
  await frame.getByRole('button', { name: /^Accept/ }).waitFor();
  check(await frame.locator('#composer').count() === 0, 'a chat without consent after the erasure and a reload');
  check(await frame.locator('.msg').count() === 0, 'history shown after the erasure and a reload');
  check((await stores(inner)).length === 0, `a store made again by the reload: ${await stores(inner)}`);
});
