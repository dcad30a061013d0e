// Withdrawing an optional purpose from the panel without erasing: the
// customer accepts the optional survey with the notice, chats, withdraws
// it from the menu's privacy choices; the conversation stays and goes on,
// the exported receipt names the survey as withdrawn, and the choice
// holds across a reload. The required purpose has no withdraw button.
import fs from 'node:fs';
import { run, openDemo, accept, type, theirs, check } from './ui_harness.mjs';

const SURVEY = 'May we ask you afterwards how we did?';

async function openChoices(frame) {
  await frame.getByRole('button', { name: 'More actions' }).click();
  await frame.getByRole('menuitem', { name: 'My privacy choices' }).click();
  const dialog = frame.getByRole('dialog', { name: 'My privacy choices' });
  await dialog.waitFor();
  return dialog;
}

await run('purposes', async (w) => {
  const page = await w.newPage();
  let { frame } = await openDemo(w, page);
  await frame.getByRole('checkbox', { name: new RegExp(SURVEY.slice(0, 20)) }).check();
  await accept(frame);
  await type(w, frame, 'A question before I answer any survey');
  await theirs(frame, 'echo: A question before I answer any survey');

  let dialog = await openChoices(frame);
  const items = dialog.locator('ul.purposes li');
  check(await items.count() === 2, `${await items.count()} purposes listed, not 2`);
  const required = items.nth(0);
  const survey = items.filter({ hasText: SURVEY });
  check((await required.textContent()).includes('needed for the chat'), `the required purpose: ${await required.textContent()}`);
  check(await required.getByRole('button').count() === 0, 'the required purpose can be withdrawn on its own');
  const before = await survey.textContent();
  check(before.includes('accepted') && !before.includes('not accepted'), `the survey before: ${before}`);
  await survey.getByRole('button', { name: `Withdraw: ${SURVEY}` }).click();
  await dialog.getByText(`Withdrawn: ${SURVEY}`).waitFor();
  check((await survey.textContent()).includes('not accepted'), `the survey after: ${await survey.textContent()}`);
  check(await survey.getByRole('button').count() === 0, 'still a withdraw button after withdrawing');
  check(await frame.locator(':focus').textContent() === 'Done', 'the focus is not on Done after withdrawing');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await dialog.waitFor({ state: 'detached' });

  // The conversation stays, and goes on.
  check(await frame.locator('.msg').count() === 2, `${await frame.locator('.msg').count()} messages after withdrawing, not 2`);
  await type(w, frame, 'Still here after withdrawing the survey');
  await theirs(frame, 'echo: Still here after withdrawing the survey');

  // The receipt the device holds now names the survey as withdrawn.
  await frame.getByRole('button', { name: 'More actions' }).click();
  const downloading = page.waitForEvent('download', { timeout: 30000 });
  await frame.getByRole('menuitem', { name: 'Download my data' }).click();
  const exported = JSON.parse(fs.readFileSync(await (await downloading).path(), 'utf8'));
  const receipt = exported.conversations[0].consent;
  check(receipt && JSON.stringify(receipt.purposes) === '["support"]' &&
    JSON.stringify(receipt.withdrawn_purposes) === '["survey"]', `the receipt: ${JSON.stringify(receipt)}`);

  // A reload keeps the choice.
  await page.reload();
  ({ frame } = await openDemo(w, page));
  await theirs(frame, 'echo: Still here after withdrawing the survey');
  dialog = await openChoices(frame);
  const after = dialog.locator('ul.purposes li').filter({ hasText: SURVEY });
  check((await after.textContent()).includes('not accepted'), `the survey after a reload: ${await after.textContent()}`);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
}, { optionalPurposes: [`survey=${SURVEY}`] });
