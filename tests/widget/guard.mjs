// The sensitive-data guard before sending, with the brand's default
// policy: health data warns (edit keeps the text and sends nothing; send
// anyway sends it), a card number is redacted (the number never leaves
// the page).
import { run, openDemo, accept, type, theirs, check } from './ui_harness.mjs';

await run('guard', async (w) => {
  const page = await w.newPage();
  const { frame } = await openDemo(w, page);
  await accept(frame);
  await type(w, frame, 'Hello, a question about my order');
  await theirs(frame, 'echo: Hello, a question about my order');

  const health = 'I have diabetes and cannot carry the box upstairs';
  await type(w, frame, health);
  const dialog = frame.getByRole('dialog', { name: 'This message may contain sensitive data' });
  await dialog.waitFor();
  await dialog.getByText(/health information/).waitFor();
  check(await dialog.locator('mark').count() >= 1, 'the sensitive words are not marked');
  await dialog.getByRole('button', { name: 'Edit the message' }).click();
  await dialog.waitFor({ state: 'detached' });
  check(await frame.locator('#composer').inputValue() === health, 'editing lost the text');
  check(await frame.locator('.msg.mine', { hasText: 'diabetes' }).count() === 0, 'sent although edited');
  await frame.locator('#composer').press('Enter');
  await dialog.getByRole('button', { name: 'Send anyway' }).click();
  await theirs(frame, `echo: ${health}`);

  const card = '4970 1000 0000 0063';
  await type(w, frame, `My card ${card} was charged twice`);
  await dialog.waitFor();
  await dialog.getByText(/payment card number/).waitFor();
  const preview = await dialog.locator('.preview').textContent();
  check(!preview.includes(card), `the redacted preview still shows the number: ${preview}`);
  await dialog.getByRole('button', { name: 'Send with the parts hidden' }).click();
  const sent = await frame.locator('.msg.mine').last().locator('.bubble').textContent();
  check(sent.includes('was charged twice') && !sent.includes(card), `sent: ${sent}`);
  await theirs(frame, 'was charged twice');
  check(!(await frame.locator('.log').textContent()).includes(card), 'the card number was sent');
});
