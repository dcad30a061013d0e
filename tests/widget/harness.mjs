// What a browser test of the widget needs around the page, for any test
// under tests/widget: a demo brand made with parley-keys, a real
// parley-relay on a free port (stopped, killed and restarted on the same
// port and database at will), an echo agent (parley-demo --echo-agent),
// the relay serving the widget's files from its web root (--web-root,
// under its strict Content-Security-Policy), a static HTTP server for a
// page of another origin, Debian's Chromium through playwright-core, and
// the check that the relay's database, WAL and log hold none of the texts
// typed in the page. Every wait is bounded and names what never came.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export const PASSPHRASE = 'widget test passphrase, not for production';

// Exit 77 (meson's SKIP) when something the browser tests need is missing,
// or fail under PARLEY_WIDGET_REQUIRED=1 (scripts/test.sh).
export function cannotRun(name, why) {
  if (process.env.PARLEY_WIDGET_REQUIRED === '1') {
    console.error(`${name}: ${why} (required: PARLEY_WIDGET_REQUIRED=1)`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

export async function loadChromium(name) {
  const chromiumPath = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(chromiumPath))
    cannotRun(name, `no Chromium at ${chromiumPath} (apt-get install chromium)`);
  try {
    const { chromium } = await import('playwright-core');
    return { chromium, chromiumPath };
  } catch (e) {
    if (e.code !== 'ERR_MODULE_NOT_FOUND')
      throw e;
    cannotRun(name, 'playwright-core is not installed (npm ci --ignore-scripts in the source tree)');
  }
  return null;
}

// Chromium's flags for this closed network: no background connections.
export function chromiumArgs() {
  const args = ['--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (process.getuid && process.getuid() === 0)
    args.push('--no-sandbox');
  return args;
}

// The native programs: BUILD/relay/parley-relay, BUILD/keys/parley-keys, BUILD/tools/parley-demo.
export function nativePrograms(name, buildDir) {
  const bins = {
    relay: path.join(buildDir, 'relay', 'parley-relay'),
    keys: path.join(buildDir, 'keys', 'parley-keys'),
    demo: path.join(buildDir, 'tools', 'parley-demo'),
  };
  for (const [what, p] of Object.entries(bins))
    if (!fs.existsSync(p))
      cannotRun(name, `no ${what} program at ${p} (build the native tree first)`);
  return bins;
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

// A demo brand in dir: brand key and pins, agents alice and bob, a signed
// directory whose purposes are "support" (required) and the optional ones
// given ("NAME=SENTENCE" each). guard: the brand's guard policy
// ("CATEGORY=ACTION,...", parley-keys brand directory --guard), none by
// default; queue: the queue line, both agents in "support" by default.
export function makeBrand(bins, dir, notice, optionalPurposes = [],
  { guard = null, queue = 'support=alice,bob' } = {}) {
  const env = { ...process.env, PARLEY_TEST_PASS: PASSPHRASE };
  const pass = ['--passphrase-env', 'PARLEY_TEST_PASS'];
  const run = (args) => execFileSync(bins.keys, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  run(['brand', 'init', '--brand-id', 'widget-shop', '--out', `${dir}/brand.key`,
    '--pub', `${dir}/brand.pub`, '--client-pin', `${dir}/brand.client`, '--kdf', 'interactive',
    ...pass]);
  for (const [agent, name] of [['alice', 'Alice Martin'], ['bob', 'Bob Lefèvre']]) {
    run(['agent', 'request', '--agent-id', agent, '--name', name, '--key', `${dir}/${agent}.key`,
      '--out', `${dir}/${agent}.req`, '--kdf', 'interactive', ...pass]);
    run(['brand', 'sign', `${dir}/${agent}.req`, '--key', `${dir}/brand.key`,
      '--out', `${dir}/${agent}.cert`, '--days', '365', ...pass]);
  }
  fs.writeFileSync(`${dir}/notice.txt`, notice);
  run(['brand', 'directory', '--key', `${dir}/brand.key`, '--out', `${dir}/directory.dir`,
    '--force', '--notice', `${dir}/notice.txt`, '--notice-version', '1', '--purpose', 'support',
    ...optionalPurposes.flatMap((p) => ['--optional-purpose', p]),
    ...(guard ? ['--guard', guard] : []),
    '--queue', queue, ...pass, `${dir}/alice.cert`, `${dir}/bob.cert`]);
  return {
    dir,
    pin: fs.readFileSync(`${dir}/brand.client`, 'utf8').trim(),
    // The directory file as parley-keys frames it; the page gets its signed body.
    directoryFile: `${dir}/directory.dir`,
  };
}

// Resolves when line matches in what a child process wrote, or rejects after ms.
function waitOutput(child, what, pattern, ms) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    const onData = (d) => {
      seen += d.toString();
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: the process exited (${code}) first:\n${seen.slice(-2000)}`));
    });
  });
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve();
    else
      child.once('exit', () => resolve());
  });
}

// parley-relay on the brand's relay pin, a database and log in dir;
// extraArgs: more options (a web root, frame ancestors).
export class Relay {
  constructor(bins, brand, dir, extraArgs = []) {
    this.bins = bins;
    this.brand = brand;
    this.db = path.join(dir, 'relay.db');
    this.log = path.join(dir, 'relay.log');
    this.portFile = path.join(dir, 'relay.port');
    this.port = 0;
    this.child = null;
    this.extraArgs = extraArgs;
  }

  async start() {
    fs.rmSync(this.portFile, { force: true });
    this.child = spawn(this.bins.relay, ['--brand', `${this.brand.dir}/brand.pub`, '--db', this.db,
      '--log', this.log, '--port', String(this.port), '--port-file', this.portFile,
      ...this.extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    const deadline = Date.now() + 20000;
    while (!fs.existsSync(this.portFile) || fs.readFileSync(this.portFile, 'utf8').trim() === '') {
      if (this.child.exitCode !== null)
        throw new Error(`parley-relay exited (${this.child.exitCode}); see ${this.log}`);
      if (Date.now() > deadline)
        throw new Error('parley-relay did not write its port file within 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    this.port = Number(fs.readFileSync(this.portFile, 'utf8').trim());
    this.url = `ws://127.0.0.1:${this.port}/`;
    return this;
  }

  // SIGTERM (a drain) or SIGKILL (a crash); the port and database stay for restart().
  async stop(signal = 'SIGTERM') {
    if (!this.child)
      return;
    const child = this.child;
    this.child = null;
    child.kill(signal);
    await exited(child);
  }

  restart() {
    return this.start();
  }

  // Rows of the relay's envelopes table for a conversation (hex ids of envelopes).
  envelopes(convHex) {
    const out = execFileSync('sqlite3', [this.db,
      `SELECT hex(envelope_id) FROM envelopes WHERE hex(conversation_id) = '${convHex.toUpperCase()}';`],
    { encoding: 'utf8' });
    return out.split('\n').filter((l) => l !== '');
  }

  // The relay's files a leak would show in: database, WAL, shared memory, log.
  files() {
    return [this.db, `${this.db}-wal`, `${this.db}-shm`, this.log].filter((f) => fs.existsSync(f));
  }
}

// parley-demo --echo-agent ID (alice unless said): claims the first
// conversation (or takes one transferred to it), answers "echo: TEXT",
// hands over on "transfer to OTHER".
export class EchoAgent {
  constructor(bins, brand, relay, id = 'alice') {
    this.bins = bins;
    this.brand = brand;
    this.relay = relay;
    this.id = id;
    this.child = null;
  }

  async start() {
    this.child = spawn(this.bins.demo, ['--relay', this.relay.url, '--demo-dir', this.brand.dir,
      '--echo-agent', this.id, '--timeout', '300'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PARLEY_DEMO_PASSPHRASE: PASSPHRASE } });
    this.output = '';
    this.child.stdout.on('data', (d) => { this.output += d; });
    this.child.stderr.on('data', (d) => { this.output += d; });
    await waitOutput(this.child, 'the echo agent never said it was ready', /ready: agent/, 60000);
    return this;
  }

  pause() {
    this.child.kill('SIGSTOP');
  }

  resume() {
    this.child.kill('SIGCONT');
  }

  async stop() {
    if (!this.child)
      return;
    const child = this.child;
    this.child = null;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited(child);
  }
}

// A static server for a page of another origin than the relay's (a brand's
// page): routes maps a path to [file, content type]; every answer
// carries the Content-Security-Policy csp (a string, or a function giving it).
export async function serve(routes, csp) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const entry = routes[url.pathname];
    if (req.method !== 'GET' || !entry) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = fs.readFileSync(entry[0]);
    res.writeHead(200, { 'Content-Type': entry[1], 'Content-Length': body.length,
      'Content-Security-Policy': typeof csp === 'function' ? csp() : csp, 'Cache-Control': 'no-store' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.origin = `http://127.0.0.1:${server.address().port}`;
  return server;
}

// A web root for the relay (--web-root) in dir: the widget's engine and
// module under engine/, and pages, a map of name -> file (real copies: the
// relay serves no symbolic link).
export function engineWebRoot(dir, sourceRoot, moduleJs, pages) {
  const engineDir = path.join(sourceRoot, 'widget', 'engine');
  fs.mkdirSync(path.join(dir, 'engine'), { recursive: true });
  for (const f of fs.readdirSync(engineDir))
    if (f.endsWith('.js'))
      fs.copyFileSync(path.join(engineDir, f), path.join(dir, 'engine', f));
  fs.copyFileSync(moduleJs, path.join(dir, 'engine', 'parley-widget.js'));
  fs.copyFileSync(moduleJs.replace(/\.js$/, '.wasm'), path.join(dir, 'engine', 'parley-widget.wasm'));
  for (const [name, file] of Object.entries(pages))
    fs.copyFileSync(file, path.join(dir, name));
  return dir;
}

// Which of texts (strings, as UTF-8, or Buffers) are in clear in any of files: [{text, file}].
export function leaks(files, texts) {
  const found = [];
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    for (const t of texts)
      if (bytes.includes(Buffer.isBuffer(t) ? t : Buffer.from(t, 'utf8')))
        found.push({ text: Buffer.isBuffer(t) ? t.toString('hex') : t, file: f });
  }
  return found;
}

// Polls fn (an async predicate over the page) until it is true; ms bound.
export async function until(what, fn, ms = 60000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v)
      return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
