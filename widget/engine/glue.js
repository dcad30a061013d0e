// The wasm module (parley-widget.js + .wasm, built from widget/glue) seen
// from JavaScript: typed calls over the C functions of widget/glue/glue.h,
// with the copying in and out of the module's memory done in one place.
// Byte arrays that held message text or secrets are wiped in the module's
// memory before they are freed.
import createParleyWidget from './parley-widget.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// parley_err values (client-lib/include/parley/common.h), by name.
export const ERROR_NAMES = [
  'OK', 'EINVAL', 'ENOMEM', 'EIO', 'EBADSEAL', 'EBADPADDING', 'EMALFORMED', 'ETOOBIG',
  'EBADSIG', 'EWRONGRECIPIENT', 'EWRONGCONVERSATION', 'EUNTRUSTED', 'EEXPIRED',
  'ENOTYETVALID', 'EREVOKED', 'EROLLBACK', 'EPASSPHRASE', 'EWRONGBRAND', 'EWRONGTYPE',
  'EEXIST', 'ENOCONSENT', 'ESTATE', 'ENOAGENT', 'EREPLAY', 'ECUSTODY', 'ENODIRECTORY',
  'ENOPREKEY', 'EUNBOUND', 'EPURPOSE', 'ESPECIAL', 'EPOLICY',
];

// The guard's actions by name (enum widget_guard_action).
export const GUARD_ACTIONS = ['allow', 'warn', 'confirm', 'block', 'redact'];
// parley_scan_category values by name (parley/scan.h).
export const SCAN_CATEGORIES = [
  'health', 'religion', 'politics', 'union', 'ethnicity', 'sexual_orientation', 'biometric',
  'card', 'iban', 'nir', 'email', 'phone',
];
// The first SPECIAL_CATEGORIES of them are GDPR art. 9's special categories.
export const SPECIAL_CATEGORIES = 7;

// An Error carrying a parley_err's name as its code; its message never holds content.
export class ParleyError extends Error {
  constructor(code, text) {
    super(text);
    this.code = code;
  }
}

export class Glue {
  constructor(module) {
    this.m = module;
  }

  static async load() {
    const glue = new Glue(await createParleyWidget());
    glue.check(glue.m._parley_widget_init());
    return glue;
  }

  errorName(err) {
    return ERROR_NAMES[err] || `E${err}`;
  }

  error(err) {
    return new ParleyError(this.errorName(err), this.string(this.m._parley_widget_strerror(err)));
  }

  // Throws a ParleyError unless err is PARLEY_OK.
  check(err) {
    if (err !== 0)
      throw this.error(err);
  }

  string(ptr) {
    return ptr ? this.m.UTF8ToString(ptr) : null;
  }

  json(ptr) {
    return ptr ? JSON.parse(this.string(ptr)) : null;
  }

  // The last byte result (a frame, a batch, a record), copied out.
  out() {
    const ptr = this.m._parley_widget_out_ptr();
    const len = this.m._parley_widget_out_len();
    return this.m.HEAPU8.slice(ptr, ptr + len);
  }

  // Calls fn with each of args as a pointer into the module's memory (strings
  // as NUL-terminated UTF-8, Uint8Arrays as bytes, followed by their length
  // when sized), then wipes and frees them. null stays a NULL pointer.
  with(args, fn) {
    const ptrs = [];
    try {
      for (const a of args) {
        if (a === null || a === undefined) {
          ptrs.push([0, 0]);
          continue;
        }
        const bytes = typeof a === 'string' ? encoder.encode(a) : a;
        const ptr = this.m._malloc(bytes.length + 1);
        if (!ptr)
          throw new ParleyError('ENOMEM', 'out of memory');
        this.m.HEAPU8.set(bytes, ptr);
        this.m.HEAPU8[ptr + bytes.length] = 0;
        ptrs.push([ptr, bytes.length]);
        if (typeof a === 'string')
          bytes.fill(0);
      }
      return fn(...ptrs);
    } finally {
      for (const [ptr, len] of ptrs) {
        if (ptr) {
          this.m.HEAPU8.fill(0, ptr, ptr + len + 1);
          this.m._free(ptr);
        }
      }
    }
  }

  utf8Length(text) {
    return encoder.encode(text).length;
  }

  decode(bytes) {
    return decoder.decode(bytes);
  }
}
