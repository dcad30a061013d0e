// Keyboard only, then a 360-px phone: the launcher is reached with Tab
// and opened with Enter, focus moves into the panel, the notice is
// accepted and a message sent without a mouse, every focused control
// shows a visible outline, new messages come in a live log, every text
// meets WCAG AA contrast, Escape closes the panel and gives the focus
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

// Every piece of text shown in the panel against the background it is
// drawn on: at least 4.5:1, or 3:1 for large text (WCAG 2.1 AA, 1.4.3).
// Disabled controls are exempt, as WCAG says. Returns what falls short.
async function lowContrast(inner) {
  return inner.evaluate(() => {
    const rgba = (c) => (c.match(/[\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    // The colour under el: its own background, or its ancestors', blended over white.
    const under = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c[3] > 0)
          layers.push(c);
        if (c[3] === 1)
          break;
      }
      let out = [255, 255, 255];
      for (const [r, g, b, a] of layers.reverse())
        out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a)];
      return out;
    };
    const bad = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || !el.getClientRects().length || el.closest(':disabled, .sr-only'))
        continue;
      const style = getComputedStyle(el);
      if (style.visibility !== 'visible')
        continue;
      const fg = rgba(style.color), bg = under(el);
      const ink = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
      const [hi, lo] = [lum(ink), lum(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need)
        bad.push(`${ratio.toFixed(2)}:1 "${n.textContent.trim().slice(0, 30)}"`);
    }
    return bad;
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
  const noticeContrast = await lowContrast(inner);
  check(noticeContrast.length === 0, `text below AA contrast on the notice: ${noticeContrast}`);
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
  // New messages arrive in a polite live log; the chat's contrast holds too.
  const log = frame.getByRole('log');
  check(await log.getAttribute('aria-live') === 'polite', 'the message log is not a polite live region');
  check(await log.locator('.msg', { hasText: 'echo: Typed with the keyboard only' }).count() === 1,
    'the reply is not in the live log');
  const chatContrast = await lowContrast(inner);
  check(chatContrast.length === 0, `text below AA contrast in the chat: ${chatContrast}`);
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
