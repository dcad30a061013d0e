// The session's host in the page: what parley/session.h asks of whoever
// drives a session, done with the browser's means. It connects the
// WebSocket (binary messages, subprotocol parley.v2) and feeds it to the
// session, ticks the session at its deadline, retries a lost connection
// (0.5 s doubling to 30 s, jitter in the upper half, as parley_client
// does), writes the store's batches to IndexedDB, and holds back every
// frame and event the session produced until the IndexedDB transactions
// taken before them have committed: the relay never hears that something
// was kept (an envelope sent from the outbox, a `delivered`) before it is
// on disk. A message received comes out of the session before its own
// record is committed (on the tick the session asks for at once), so it
// is shown first and saved right after (parley/session.h, "Receiving").

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30000;
const WS_OPEN = 1;

export class Host {
  // glue: Glue; relay: ws(s) URL; onEvent(ev): each session event, in order,
  // once durable; onStorageFailure(error): a write failed (the session's
  // memory is then ahead of the disk and must be dropped).
  constructor(glue, relay, onEvent, onStorageFailure) {
    this.glue = glue;
    this.relay = relay;
    this.onEvent = onEvent;
    this.onStorageFailure = onStorageFailure;
    this.storage = null;        // set once the session's store is persistent
    this.ws = null;
    this.gen = 0;               // connection generation: frames belong to one
    this.attempts = 0;
    this.retryTimer = null;
    this.retryAt = null;
    this.tickTimer = null;
    this.tickAt = null;
    this.writesIssued = 0;
    this.writesDone = 0;
    this.held = [];
    this.flushing = false;
    this.wanted = false;        // whether the host keeps a connection up
    this.stopped = false;
    this.onlineListener = () => {
      if (this.wanted && !this.ws)
        this.connectNow();
    };
    globalThis.addEventListener?.('online', this.onlineListener);
  }

  // After every call into the session: its batches go to IndexedDB, its
  // frames and events wait for them, its deadline is scheduled.
  pump() {
    const g = this.glue;
    while (g.m._parley_widget_next_batch()) {
      const batch = g.out();
      const n = ++this.writesIssued;
      if (!this.storage)
        throw new Error('a batch without storage');
      this.storage.write(batch).then(() => {
        this.writesDone = n;
        this.flush();
      }, (e) => this.storageFailed(e));
    }
    while (g.m._parley_widget_next_frame())
      this.held.push({ needs: this.writesIssued, frame: g.out(), gen: this.gen });
    for (let ev; (ev = g.json(g.m._parley_widget_next_event()));)
      this.held.push({ needs: this.writesIssued, event: ev });
    this.flush();
    this.schedule();
  }

  // Runs fn once everything written so far has committed (at once when
  // nothing waits), or onFail(error) if a write fails first.
  afterWrites(fn, onFail) {
    this.held.push({ needs: this.writesIssued, run: fn, fail: onFail });
    this.flush();
  }

  // A promise of afterWrites().
  written() {
    return new Promise((resolve, reject) => this.afterWrites(resolve, reject));
  }

  flush() {
    if (this.flushing || this.stopped)
      return;
    this.flushing = true;
    try {
      while (this.held.length && this.held[0].needs <= this.writesDone && !this.stopped) {
        const item = this.held.shift();
        if (item.frame) {
          if (item.gen === this.gen && this.ws && this.ws.readyState === WS_OPEN)
            this.ws.send(item.frame);
        } else if (item.event) {
          this.onEvent(item.event);
        } else {
          item.run();
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  // What waited for the disk will never be sent, shown or confirmed.
  storageFailed(e) {
    if (this.stopped)
      return;
    const held = this.held;
    this.held = [];
    for (const item of held)
      if (item.fail)
        item.fail(Object.assign(new Error('this device could not save the chat'), { code: 'storage' }));
    this.onStorageFailure(e);
  }

  // Calls into the session must be followed by pump(); call() does both.
  call(fn) {
    try {
      return fn(this.glue.m);
    } finally {
      this.pump();
    }
  }

  schedule() {
    if (this.stopped)
      return;
    const deadline = this.glue.m._parley_widget_deadline();
    if (deadline < 0) {
      clearTimeout(this.tickTimer);
      this.tickTimer = null;
      this.tickAt = null;
      return;
    }
    if (this.tickTimer && this.tickAt === deadline)
      return;
    clearTimeout(this.tickTimer);
    this.tickAt = deadline;
    // setTimeout takes at most 2^31-1 ms; a later deadline is looked at again then.
    const wait = Math.min(Math.max(0, deadline - Date.now()), 2147483647);
    this.tickTimer = setTimeout(() => {
      this.tickTimer = null;
      this.tickAt = null;
      this.call((m) => m._parley_widget_tick(Date.now()));
    }, wait);
  }

  // Keeps a connection up (want) or closes it and stops retrying.
  want(want) {
    this.wanted = want;
    if (want && !this.ws && !this.retryTimer)
      this.connectNow();
    if (!want)
      this.disconnect();
  }

  connectNow() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
    if (this.ws || this.stopped)
      return;
    const gen = ++this.gen;
    let ws;
    try {
      ws = new WebSocket(this.relay, 'parley.v2');
    } catch (e) {
      this.lost(gen, false);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      if (gen !== this.gen)
        return;
      if (ws.protocol !== 'parley.v2') {
        ws.close(1002);
        return;
      }
      this.call((m) => m._parley_widget_opened(Date.now()));
    };
    ws.onmessage = (e) => {
      if (gen !== this.gen)
        return;
      if (!(e.data instanceof ArrayBuffer)) {
        ws.close(1003); // the relay speaks binary only: a text message is not Parley
        return;
      }
      const frame = new Uint8Array(e.data);
      this.call(() => this.glue.with([frame], ([p, len]) =>
        this.glue.m._parley_widget_feed(p, len, Date.now())));
    };
    ws.onclose = (e) => this.lost(gen, e.code === 1008);
  }

  // The connection of generation gen ended (or could not start).
  lost(gen, untrusted) {
    if (gen !== this.gen || this.stopped)
      return;
    this.ws = null;
    this.gen++;
    let retry = 0;
    if (this.wanted) {
      const cap = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(this.attempts, 16));
      retry = Math.round(cap / 2 + Math.random() * cap / 2);
      this.attempts++;
      this.retryAt = Date.now() + retry;
      this.retryTimer = setTimeout(() => this.connectNow(), retry);
    }
    this.call((m) => m._parley_widget_closed(untrusted ? 1 : 0, retry, Date.now()));
  }

  // The relay accepted the authentication: the next loss starts the backoff afresh.
  authenticated() {
    this.attempts = 0;
  }

  disconnect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
    if (!this.ws)
      return;
    const ws = this.ws;
    const gen = this.gen;
    this.wanted = false;
    ws.onclose = null;
    ws.close(1000);
    this.lost(gen, false);
  }

  online() {
    return !!this.ws && this.glue.m._parley_widget_connected() === 1;
  }

  retryInMs() {
    return this.retryAt === null ? null : Math.max(0, this.retryAt - Date.now());
  }

  stop() {
    this.disconnect();
    this.stopped = true;
    this.held = [];
    clearTimeout(this.tickTimer);
    globalThis.removeEventListener?.('online', this.onlineListener);
  }
}
