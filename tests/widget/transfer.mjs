// An agent transfers the conversation to a colleague: the customer sees
// "Transferred to …" in the conversation, the new agent's name in the
// header, not verified (verification is per agent key, and the first
// agent was verified), and the conversation goes on with the new agent.
// Only alice serves the queue; bob's echo agent takes the conversation
// when alice hands it over ("transfer to bob", parley-demo --echo-agent).
import { run, openDemo, accept, type, theirs, check } from './ui_harness.mjs';

await run('transfer', async (w) => {
  const page = await w.newPage();
  const { frame } = await openDemo(w, page);
  await accept(frame);
  await type(w, frame, 'Hello, who can help me with a refund?');
  const first = await theirs(frame, 'echo: Hello, who can help me with a refund?');
  check((await first.locator('.sender').textContent()) === 'Alice Martin', 'the first answer is not Alice\'s');
  await frame.locator('.header .agent', { hasText: 'Alice Martin' }).waitFor();
  await frame.getByRole('button', { name: /Not verified/ }).click();
  const dialog = frame.getByRole('dialog', { name: 'Compare safety numbers' });
  await dialog.getByRole('button', { name: 'They match' }).click();
  await frame.getByRole('button', { name: /^Verified/ }).waitFor();

  await w.startAgent('bob');
  await type(w, frame, 'transfer to bob');
  const notice = frame.locator('.log li.event', { hasText: 'Transferred to Bob Lefèvre' });
  await notice.waitFor({ timeout: 60000 });
  check(await notice.count() === 1, `the transfer was announced ${await notice.count()} times`);
  await frame.locator('.header .agent', { hasText: 'Bob Lefèvre' }).waitFor({ timeout: 60000 });
  await frame.getByRole('button', { name: /Not verified/ }).waitFor();

  await type(w, frame, 'Are you there, Bob?');
  const answer = await theirs(frame, 'echo: Are you there, Bob?');
  check((await answer.locator('.sender').textContent()) === 'Bob Lefèvre', 'the answer after the transfer is not Bob\'s');
  // The notice sits between the last message to Alice and the first to Bob.
  const order = await frame.locator('.log > li').evaluateAll((lis) => lis.map((li) => li.textContent));
  const at = order.findIndex((x) => x.includes('Transferred to Bob Lefèvre'));
  check(at > order.findIndex((x) => x.includes('transfer to bob')) &&
    at < order.findIndex((x) => x.includes('Are you there, Bob?')), `the log in order: ${JSON.stringify(order)}`);
}, { queue: 'support=alice' });
