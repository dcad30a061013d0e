// Browser smoke test of the wasm build (suite 'widget'): serves smoke.html
// and the smoke module (libparley's C built for the web) over
// http://127.0.0.1 under a strict Content-Security-Policy, opens it in
// Debian's Chromium driven by playwright-core, and checks what the page
// computed: the identity and signature known-answer vectors of
// tests/vectors, seal/open round trips with keys from the browser's
// randomness, and changed envelopes refused.
//
//   node browser_smoke.mjs MODULE.js VECTORS_DIR
//
// Exits 77 (meson's SKIP) when Chromium or playwright-core is not there,
// saying which; with PARLEY_WIDGET_REQUIRED=1 (scripts/test.sh) that is a
// failure instead. PARLEY_CHROMIUM overrides /usr/bin/chromium.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [moduleJs, vectorsDir] = process.argv.slice(2);
if (!moduleJs || !vectorsDir) {
  console.error('usage: browser_smoke.mjs MODULE.js VECTORS_DIR');
  process.exit(2);
}

function cannotRun(why) {
  if (process.env.PARLEY_WIDGET_REQUIRED === '1') {
    console.error(`browser smoke: ${why} (required: PARLEY_WIDGET_REQUIRED=1)`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

const chromiumPath = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromiumPath))
  cannotRun(`no Chromium at ${chromiumPath} (apt-get install chromium)`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  if (e.code !== 'ERR_MODULE_NOT_FOUND')
    throw e;
  cannotRun('playwright-core is not installed (npm ci --ignore-scripts in the source tree)');
}

// "name = value" lines of a .exp file.
function readVectors(name) {
  const entries = new Map();
  for (const line of fs.readFileSync(path.join(vectorsDir, name), 'utf8').split('\n')) {
    const m = /^([^#=\s][^=]*?) = (.*)$/.exec(line);
    if (m)
      entries.set(m[1], m[2]);
  }
  return entries;
}

// The seeds of tests/vectors/vectors.c: 32 bytes equal to these.
const seedFill = { brand: 1, agent: 2, customer: 3, agent2: 4 };
const identityExp = readVectors('identity.exp');
const signingExp = readVectors('signing.exp');
const longText = 'Ceci est un long message. '.repeat(400);
const request = {
  identities: Object.entries(seedFill),
  message: signingExp.get('message'),
  signatures: [
    ['brand_sig.relay-auth', seedFill.brand, 'relay-auth'],
    ['customer_sig.relay-auth', seedFill.customer, 'relay-auth'],
    ['reserved', seedFill.brand, 'payload'],
  ],
  texts: [
    'Bonjour, ma commande n°42 est arrivée abîmée 📦 — pouvez-vous m’aider ?',
    'a',
    longText,
  ],
  flips: [0, 1, 100, 300],
};

const files = {
  '/': [path.join(here, 'smoke.html'), 'text/html; charset=utf-8'],
  '/smoke-page.js': [path.join(here, 'smoke-page.js'), 'text/javascript'],
  '/parley-smoke.js': [moduleJs, 'text/javascript'],
  '/parley-smoke.wasm': [moduleJs.replace(/\.js$/, '.wasm'), 'application/wasm'],
};
// What a widget page needs: its own scripts, WebAssembly compilation
// ('wasm-unsafe-eval'), and fetching its own .wasm; nothing inline.
const csp = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";
const served = [];
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const entry = files[url.pathname];
  served.push(url.pathname);
  if (req.method !== 'GET' || !entry) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const body = fs.readFileSync(entry[0]);
  res.writeHead(200, {
    'Content-Type': entry[1],
    'Content-Length': body.length,
    'Content-Security-Policy': csp,
    'Cache-Control': 'no-store',
  });
  res.end(body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const failures = [];
function check(ok, what) {
  if (!ok)
    failures.push(what);
}

// The flags this closed network needs: no background connections.
const args = [
  '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
if (process.getuid && process.getuid() === 0)
  args.push('--no-sandbox');
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args,
  timeout: 60000 });
let result;
const pageErrors = [];
try {
  const page = await browser.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error')
      pageErrors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`page error: ${e}`));
  await page.goto(`${origin}/#${encodeURIComponent(JSON.stringify(request))}`);
  await page.waitForFunction(() => window.parleySmoke !== undefined, null, { timeout: 60000 });
  result = await page.evaluate(() => window.parleySmoke);
  const version = browser.version();
  console.log(`Chromium ${version}, page ${origin}/, served: ${[...new Set(served)].join(' ')}`);
} finally {
  await browser.close();
  server.close();
}

check(pageErrors.length === 0, `the page reported errors:\n  ${pageErrors.join('\n  ')}`);
if (result.error) {
  failures.push(`the page failed: ${result.error}`);
} else {
  const got = new Map();
  for (const line of result.identities.split('\n')) {
    const m = /^(\S+) = (.*)$/.exec(line);
    if (m)
      got.set(m[1], m[2]);
  }
  // Each one computed must be in identity.exp: a renamed vector fails here.
  check(got.size >= 5 * request.identities.length,
    `identity vectors: only ${got.size} computed in the browser`);
  for (const [name, value] of got)
    check(identityExp.get(name) === value,
      `${name}: browser ${value}, identity.exp ${identityExp.get(name)}`);
  for (const name of ['brand_sig.relay-auth', 'customer_sig.relay-auth'])
    check(result.signatures[name] === signingExp.get(name),
      `${name}: browser ${result.signatures[name]}, signing.exp ${signingExp.get(name)}`);
  check(result.signatures.reserved === 'error: sign: invalid argument',
    `a signature in a reserved domain: ${result.signatures.reserved}`);
  request.texts.forEach((text, i) => check(result.roundTrips[i] === text,
    `round trip ${i}: sent ${JSON.stringify(text.slice(0, 80))}, ` +
    `opened ${JSON.stringify(String(result.roundTrips[i]).slice(0, 80))}`));
  request.flips.forEach((flip, i) => check(result.tampered[i] === 'refused: bad seal',
    `envelope changed ${flip} bytes before its end: ${result.tampered[i]}`));
  console.log(`${got.size} identity vectors, 2 signature vectors, ` +
    `${request.texts.length} round trips, ${request.flips.length} changed envelopes checked`);
}

if (failures.length) {
  for (const f of failures)
    console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log('browser smoke: ok');
