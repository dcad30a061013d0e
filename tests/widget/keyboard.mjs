// Keyboard only, then a 360-px phone: the launcher is reached with Tab
// and opened with Enter, focus moves into the panel, the notice is
// accepted and a message sent without a mouse, every focused control
// shows a visible outline, Escape closes the panel and gives the focus
// back to the launcher. On a 360-px screen the panel fills the width with
// nothing cut off.
import path from 'node:path';
import { run, openDemo, type, theirs, check, launcherSelector } from './ui_harness.mjs';

async function focused(inner) {
  return inner.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { tag: el.tagName, id: el.id, text: el.textContent.trim().slice(0, 40), outline: style.outlineStyle,
      width: style.outlineWidth };
  });
}

await run('keyboard', async (w) => {
  const page = await w.newPage();
  const { inner, frame } = await openDemo(w, page, 'index.html', { click: false });
  await page.keyboard.press('Tab');
  check(await page.locator(launcherSelector).evaluate((b) => b.getRootNode().activeElement === b),
    'Tab does not reach the launcher');
  await page.keyboard.press('Enter');
  await frame.getByRole('heading', { name: 'Before we start' }).waitFor();
  check((await focused(inner)).id === 'notice-heading', 'focus did not move to the notice');
  // Tab to "Accept" and press it; every stop has a visible focus ring.
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(inner);
    check(f.outline !== 'none' && f.width !== '0px', `no visible focus on ${f.tag} ${f.text}`);
    if (/^Accept/.test(f.text))
      break;
  }
  check(/^Accept/.test((await focused(inner)).text), 'Tab never reached the Accept button');
  await page.keyboard.press('Enter');
  await frame.locator('#composer').waitFor();
  check((await focused(inner)).id === 'composer', 'focus is not in the composer after consent');
  w.typed.push('Typed with the keyboard only');
  await page.keyboard.type('Typed with the keyboard only');
  await page.keyboard.press('Enter');
  await theirs(frame, 'echo: Typed with the keyboard only');
  await page.keyboard.press('Escape');
  check(await page.locator(launcherSelector).evaluate((b) => b.getRootNode().activeElement === b &&
    b.getAttribute('aria-expanded') === 'false'), 'Escape did not close the panel back to the launcher');

  // The same customer on a 360-px phone: the panel takes the screen, nothing sticks out.
  await page.setViewportSize({ width: 360, height: 740 });
  await page.locator(launcherSelector).click();
  await frame.locator('#composer').waitFor();
  const box = await page.locator('[data-parley-widget] iframe').boundingBox();
  check(Math.round(box.width) === 360 && box.x === 0, `the panel is ${box.width} px wide at x=${box.x}`);
  await type(w, frame, 'A long message from a phone: ' + 'pneumatique '.repeat(12));
  await theirs(frame, 'echo: A long message from a phone');
  const overflow = await inner.evaluate(() => document.documentElement.scrollWidth -
    document.documentElement.clientWidth);
  check(overflow <= 0, `the panel scrolls sideways by ${overflow} px at 360 px`);
  const send = await frame.getByRole('button', { name: 'Send' }).boundingBox();
  check(send.x + send.width <= 360, 'the send button is cut off at 360 px');
  await page.screenshot({ path: path.join(w.artifacts, 'widget-360.png') });
});
