// The widget's measurements in the page (tests/widget/widget_bench.mjs):
// bench/crypto's seal and open benchmark compiled for the web, and the
// cost of starting a session in the widget's module (Argon2id unlocking
// its store, the identity made), each run as the page's query asks.
import createBenchCrypto from '/bench-crypto-web.js';
import { Glue } from '/engine/glue.js';

const params = JSON.parse(decodeURIComponent(location.hash.slice(1)));

async function crypto() {
  const lines = [];
  await createBenchCrypto({ arguments: params.cryptoArgs, print: (l) => lines.push(l),
    printErr: (l) => lines.push(`stderr: ${l}`) });
  return lines;
}

// Milliseconds of keys + session start (a new in-memory store each time).
async function sessionStarts() {
  const glue = await Glue.load();
  const times = [];
  for (let i = 0; i < params.sessionRuns; i++) {
    const secret = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const t0 = performance.now();
    glue.with([secret], ([s, sl]) => glue.check(glue.m._parley_widget_keys(s, sl)));
    glue.with([params.pin], ([p, pl]) =>
      glue.check(glue.m._parley_widget_session_start(p, pl, Date.now())));
    times.push(performance.now() - t0);
    glue.m._parley_widget_session_end();
  }
  return times;
}

try {
  window.benchResult = { crypto: await crypto(), sessionStartMs: await sessionStarts(),
    userAgent: navigator.userAgent };
} catch (e) {
  window.benchResult = { error: String(e.stack || e) };
}
