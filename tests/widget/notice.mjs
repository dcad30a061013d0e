// The page shipped version 1 of the brand's notice; the brand has since
// signed version 2, which the relay holds. Accepting version 1 is not
// recorded: the panel shows version 2, says why, and consent to it opens
// the chat.
import { run, openDemo, accept, type, theirs, check } from './ui_harness.mjs';

const NEW = 'Demo Shop now also keeps a satisfaction score for each conversation.\n';

await run('notice', async (w) => {
  const page = await w.newPage();
  const { frame } = await openDemo(w, page);
  await frame.getByText('Demo Shop keeps this conversation').waitFor();
  await frame.getByText(/version 1,/).waitFor();
  await frame.getByRole('button', { name: /^Accept/ }).click();
  await frame.getByText('The brand has just changed its notice').waitFor({ timeout: 60000 });
  await frame.getByText('Demo Shop now also keeps a satisfaction score').waitFor();
  await frame.getByText(/version 2,/).waitFor();
  check(await frame.locator('#composer').count() === 0, 'the chat opened on consent to the old notice');
  await accept(frame);
  await type(w, frame, 'Consented to the second notice');
  await theirs(frame, 'echo: Consented to the second notice');
}, { newNotice: NEW });
