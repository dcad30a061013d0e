// The sensitive-data guard before sending, with the brand's default
// policy: health data needs the customer's explicit consent, a box of its
// own, not ticked (edit keeps the text and sends nothing; the send button
// waits for the tick), given once per conversation, signed and received by
// the agent before the text (GDPR art. 9(2)(a)); a card number is redacted
// (the number never leaves the page).
import { run, openDemo, accept, type, theirs, check } from './ui_harness.mjs';

await run('guard', async (w) => {
  const page = await w.newPage();
  const { frame } = await openDemo(w, page);
  await accept(frame);
  await type(w, frame, 'Hello, a question about my order');
  await theirs(frame, 'echo: Hello, a question about my order');

  const health = 'I have diabetes and cannot carry the box upstairs';
  await type(w, frame, health);
  const consent = frame.getByRole('dialog', { name: 'Your explicit consent is needed' });
  await consent.waitFor();
  check(await consent.locator('mark').count() >= 1, 'the sensitive words are not marked');
  const box = consent.getByRole('checkbox', { name: /I consent to sending health information/ });
  const send = consent.getByRole('button', { name: 'Send with my consent' });
  check(!(await box.isChecked()), 'the consent box comes ticked');
  check(await send.isDisabled(), 'it can be sent without the consent');
  await consent.getByRole('button', { name: 'Edit the message' }).click();
  await consent.waitFor({ state: 'detached' });
  check(await frame.locator('#composer').inputValue() === health, 'editing lost the text');
  check(await frame.locator('.msg.mine', { hasText: 'diabetes' }).count() === 0, 'sent although edited');
  await frame.locator('#composer').press('Enter');
  await box.check();
  await send.click();
  await theirs(frame, `echo: ${health}`);
  const heard = 'heard: explicit consent (art. 9) to send health';
  check(w.agentOutput().includes(heard), `the agent's side: ${w.agentOutput()}`);
  // Given for this conversation: the next health text goes without asking.
  const again = 'My diabetes also means mornings are best';
  await type(w, frame, again);
  await theirs(frame, `echo: ${again}`);
  check(await consent.count() === 0, 'asked again in the same conversation');
  check(w.agentOutput().split(heard).length === 2, 'a second consent was sent');

  const card = '4970 1000 0000 0063';
  const dialog = frame.getByRole('dialog', { name: 'This message may contain sensitive data' });
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
