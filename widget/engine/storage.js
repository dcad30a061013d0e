// The widget's installation in IndexedDB: the rows of the session's store
// (widget/glue/store.h), each encrypted under a non-extractable WebCrypto
// AES-GCM key that lives in the same database, and the installation's
// secret wrapped under that key. docs/widget.md ("Storage") says what this
// protects against and what not.
//
// Database "parley-widget/<brand id>", version 1:
//   keys  "installation" -> {aes: CryptoKey (AES-GCM 256, non-extractable),
//                            secret: ArrayBuffer (12-byte IV || AES-GCM of 32 bytes),
//                            created: Unix ms}
//   rows  <row id, 32 hex digits> -> ArrayBuffer (12-byte IV || AES-GCM of the row)
// Each row is encrypted with its row id as additional data, so a row
// cannot be moved under another id; the secret with a label of its own.
//
// Every batch of the store is written in one IndexedDB transaction with
// durability "strict" (committed means flushed to disk), in the order the
// session committed them; the first batch of an installation is written
// together with its keys, so an installation exists whole or not at all.

const KEYS = 'keys';
const ROWS = 'rows';
const INSTALLATION = 'installation';
const SECRET_AD = new TextEncoder().encode('parley/widget/installation-secret/v1');
const ROW_ID_BYTES = 16;

export function databaseName(brandId) {
  return `parley-widget/${brandId}`;
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
    tx.onerror = () => reject(tx.error || new Error('IndexedDB transaction failed'));
  });
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function unhex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++)
    out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

async function encrypt(key, plain, ad) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: ad }, key, plain));
  const out = new Uint8Array(12 + ct.length);
  out.set(iv);
  out.set(ct, 12);
  return out.buffer;
}

async function decrypt(key, sealed, ad) {
  const bytes = new Uint8Array(sealed);
  return new Uint8Array(await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: bytes.subarray(0, 12), additionalData: ad }, key,
    bytes.subarray(12)));
}

// The records of a batch (widget/glue/store.h): [{op, id, row}].
export function parseBatch(batch) {
  const records = [];
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let i = 0;
  while (i < batch.length) {
    if (batch.length - i < 1 + ROW_ID_BYTES + 4)
      throw new Error('malformed store batch');
    const op = batch[i];
    const id = batch.slice(i + 1, i + 1 + ROW_ID_BYTES);
    const len = view.getUint32(i + 1 + ROW_ID_BYTES, true);
    i += 1 + ROW_ID_BYTES + 4;
    if (batch.length - i < len || (op !== 1 && op !== 2))
      throw new Error('malformed store batch');
    records.push({ op, id, row: batch.subarray(i, i + len) });
    i += len;
  }
  return records;
}

// True when this origin holds an installation for the brand (without
// creating an empty database by asking).
export async function installationExists(brandId) {
  const name = databaseName(brandId);
  const dbs = await indexedDB.databases();
  return dbs.some((d) => d.name === name);
}

export class Storage {
  constructor(db, name) {
    this.db = db;
    this.name = name;
    this.key = null;
    this.pendingKeys = null;   // the keys record, written with the first batch
    this.chain = Promise.resolve();
    this.failed = null;
  }

  static async open(brandId) {
    const name = databaseName(brandId);
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(KEYS);
      open.result.createObjectStore(ROWS);
    };
    const db = await request(open);
    // Another page deleting the database (an erasure) closes this one.
    db.onversionchange = () => db.close();
    return new Storage(db, name);
  }

  // A new installation: a non-extractable AES-GCM key and the secret
  // wrapped under it, written with the first batch (write()).
  async create(secret) {
    this.key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false,
      ['encrypt', 'decrypt']);
    this.pendingKeys = {
      aes: this.key,
      secret: await encrypt(this.key, secret, SECRET_AD),
      created: Date.now(),
    };
  }

  // The installation's secret, or null when the database holds none.
  async unlock() {
    const tx = this.db.transaction(KEYS, 'readonly');
    const rec = await request(tx.objectStore(KEYS).get(INSTALLATION));
    if (!rec || !(rec.aes instanceof CryptoKey))
      return null;
    this.key = rec.aes;
    return decrypt(this.key, rec.secret, SECRET_AD);
  }

  // Every row, decrypted: [{id: Uint8Array(16), row: Uint8Array}].
  async rows() {
    const tx = this.db.transaction(ROWS, 'readonly');
    const store = tx.objectStore(ROWS);
    const [ids, values] = await Promise.all([request(store.getAllKeys()),
      request(store.getAll())]);
    return Promise.all(ids.map(async (idHex, i) => {
      const id = unhex(idHex);
      return { id, row: await decrypt(this.key, values[i], id) };
    }));
  }

  // Writes one batch in one transaction, after every batch before it.
  // Resolves once IndexedDB committed it; after a failure every later
  // write fails too (the page must start again from what is on disk).
  write(batch) {
    const records = parseBatch(batch);
    const sealed = Promise.all(records.map((r) => (r.op === 1
      ? encrypt(this.key, r.row, r.id) : null)));
    const keys = this.pendingKeys;
    this.pendingKeys = null;
    this.chain = this.chain.then(async () => {
      if (this.failed)
        throw this.failed;
      const values = await sealed;
      const tx = this.db.transaction(keys ? [KEYS, ROWS] : [ROWS], 'readwrite',
        { durability: 'strict' });
      const rows = tx.objectStore(ROWS);
      if (keys)
        tx.objectStore(KEYS).put(keys, INSTALLATION);
      records.forEach((r, i) => {
        if (r.op === 1)
          rows.put(values[i], hex(r.id));
        else
          rows.delete(hex(r.id));
      });
      await done(tx);
    }).catch((e) => {
      this.failed = this.failed || e;
      throw this.failed;
    });
    batch.fill(0);
    return this.chain;
  }

  // Waits for the writes issued so far.
  settled() {
    return this.chain.then(() => undefined, () => undefined);
  }

  close() {
    this.db.close();
  }

  // Deletes the installation: keys, rows, the database itself.
  async destroy() {
    await this.settled();
    this.db.close();
    await request(indexedDB.deleteDatabase(this.name));
  }
}
