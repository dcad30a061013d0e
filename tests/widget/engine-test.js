// The engine test page's script: loads the widget's engine as the chat
// panel would, and exposes it to tests/widget/engine_test.mjs as
// window.T. It records every engine event, every WebSocket frame the page
// sends and every IndexedDB read-write transaction, and can hold one
// transaction open (a slow disk) or make it fail, so the test can see
// what leaves the page before the state behind it is on disk.
import { startEngine } from '/engine/engine.js';

const log = { events: [], sent: [], commits: 0, gate: null };

const sendNative = WebSocket.prototype.send;
WebSocket.prototype.send = function send(data) {
  log.sent.push({ bytes: data.byteLength, commitsBefore: log.commits });
  return sendNative.call(this, data);
};

// Read-write transactions are counted at completion; the next one can be
// gated: kept open by a chain of reads until the test releases it, then
// let commit or aborted.
const transactionNative = IDBDatabase.prototype.transaction;
IDBDatabase.prototype.transaction = function transaction(stores, mode, options) {
  const tx = transactionNative.call(this, stores, mode, options);
  if (mode !== 'readwrite')
    return tx;
  tx.addEventListener('complete', () => { log.commits++; });
  const gate = log.gate;
  if (gate && !gate.taken) {
    gate.taken = true;
    const store = tx.objectStore(Array.isArray(stores) ? stores[stores.length - 1] : stores);
    const spin = () => {
      if (gate.release === 'commit')
        return;
      if (gate.release === 'abort') {
        tx.abort();
        return;
      }
      store.count().onsuccess = spin;
    };
    spin();
  }
  return tx;
};

// The module's linear memory, for the memory figures of widget_bench.mjs.
const memories = [];
for (const name of ['instantiate', 'instantiateStreaming']) {
  const native = WebAssembly[name];
  WebAssembly[name] = async function instantiate(...args) {
    const r = await native.apply(this, args);
    // Export names are minified: the memory is the one export that is a Memory.
    const mem = Object.values((r.instance || r).exports).find((e) => e instanceof WebAssembly.Memory);
    if (mem)
      memories.push(mem);
    return r;
  };
}

let engine = null;

window.T = {
  log,
  async start(options) {
    const opts = { ...options };
    if (opts.directoryHex)
      opts.directory = Uint8Array.from(opts.directoryHex.match(/../g), (h) => parseInt(h, 16));
    delete opts.directoryHex;
    engine = await startEngine(opts);
    engine.subscribe((ev) => log.events.push(ev));
    return true;
  },
  // Calls an engine method; errors come back as {error: code, message}.
  async call(method, ...args) {
    try {
      const r = await engine[method](...args);
      return r === undefined ? null : r;
    } catch (e) {
      return { error: e.code || 'exception', message: String(e.message || e) };
    }
  },
  // Calls a method without waiting for it (its result lands in T.pending[name]).
  begin(name, method, ...args) {
    T.pending[name] = null;
    Promise.resolve(engine[method](...args)).then((r) => { T.pending[name] = { ok: r }; },
      (e) => { T.pending[name] = { error: e.code || String(e) }; });
    return log.sent.length;
  },
  pending: {},
  gate(release) {
    if (release === undefined)
      log.gate = { taken: false, release: null };
    else
      log.gate.release = release;
  },
  wasmBytes() {
    return memories.reduce((n, m) => n + m.buffer.byteLength, 0);
  },
  async databases() {
    return (await indexedDB.databases()).map((d) => d.name);
  },
  close() {
    engine.close();
    engine = null;
  },
};
window.engineTestReady = true;
