// The chat panel's entry point, inside the widget's iframe (its own
// origin). Reads the configuration the loader put in the URL fragment,
// starts the engine (wasm libparley, the WebSocket and the store live
// there), and shows the notice and consent screen, then the conversation.
//
// The host page is reached only through postMessage, to the origin the
// loader declared and only if it is really the parent's; messages are
// accepted only from the parent window and that origin. The page learns
// only: ready, close, attention (something new while closed).
import { startEngine } from './engine/engine.js';
import { h } from './dom.js';
import { pickLanguage, translator } from './i18n.js';
import { showNotice, showFetching, brandName } from './notice.js';
import { Chat } from './chat.js';

const PROTOCOL = 'parley-widget-1';
const params = new URLSearchParams(location.hash.slice(1));
const config = {
  relay: params.get('relay') || '',
  brand: params.get('brand') || '',
  queue: params.get('queue') || 'support',
  directory: params.get('directory') || 'directory.json',
};
const t = translator(pickLanguage(params.get('lang') || navigator.language));
document.documentElement.lang = t.lang;
document.title = t('title');
const main = document.getElementById('app');

// The host page: the origin the loader declared, believed only when the
// browser confirms it is the embedding page's (ancestorOrigins).
const embedded = window.parent !== window;
const hostOrigin = (() => {
  const declared = params.get('host');
  if (!embedded || !declared)
    return null;
  const ancestors = location.ancestorOrigins;
  if (ancestors && ancestors.length && ancestors[0] !== declared)
    return null;
  return declared;
})();
let visible = !embedded;
// Resolves when the panel is first shown (at once when not embedded).
let shown;
const opened = new Promise((resolve) => { shown = resolve; });
if (visible)
  shown();

function tellHost(type) {
  if (hostOrigin)
    window.parent.postMessage({ protocol: PROTOCOL, type }, hostOrigin);
}

let focusTarget = () => main;
window.addEventListener('message', (event) => {
  if (!hostOrigin || event.source !== window.parent || event.origin !== hostOrigin)
    return;
  const m = event.data;
  if (!m || typeof m !== 'object' || m.protocol !== PROTOCOL)
    return;
  if (m.type === 'open') {
    visible = true;
    shown();
    const target = focusTarget();
    if (target)
      target.focus();
    if (chat)
      chat.markRead();
  } else if (m.type === 'close') {
    visible = false;
  }
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !e.defaultPrevented && !document.querySelector('dialog[open]'))
    tellHost('close');
});

function fail(reason) {
  main.setAttribute('aria-busy', 'false');
  main.replaceChildren(h('p', { class: 'failure', role: 'alert', text: t('loadFailed', { reason }) }));
}

// The brand's signed directory shipped beside the panel (same origin
// only): directory.json, {"directory": base64 of the directory.dir file
// parley-keys writes}. null when there is none: the engine then fetches
// it from the relay.
async function shippedDirectory() {
  const url = new URL(config.directory, location.href);
  if (url.origin !== location.origin)
    return null;
  let r;
  try {
    r = await fetch(url, { credentials: 'omit', cache: 'no-cache' });
  } catch (e) {
    return null;
  }
  if (!r.ok)
    return null;
  const shipped = await r.json();
  if (!shipped || typeof shipped.directory !== 'string')
    throw new Error(`${url.pathname}: no "directory"`);
  return Uint8Array.from(atob(shipped.directory), (c) => c.charCodeAt(0));
}

let engine, chat;

function showChat() {
  const notice = engine.notice();
  chat = new Chat(main, {
    engine, t, queue: config.queue, brand: brandName(notice) || brandId(),
    isVisible: () => visible && document.visibilityState === 'visible',
    attention: () => tellHost('attention'),
    requestClose: () => tellHost('close'),
    onErased: showErased,
  });
  focusTarget = () => chat.input;
}

function showErased(count) {
  chat = null;
  const again = h('button', { class: 'btn', type: 'button', text: t('reviewNotice'), onclick: route });
  const said = h('p', { id: 'erased', role: 'status', tabindex: '-1', text: t('erased', { count }) });
  main.replaceChildren(h('section', { class: 'notice' }, said, h('div', { class: 'actions' }, again)));
  focusTarget = () => said;
  said.focus();
}

function brandId() {
  return config.brand.split(/\s+/)[1] || '';
}

function route() {
  main.setAttribute('aria-busy', 'false');
  if (engine.hasConsent()) {
    showChat();
  } else {
    chat = null;
    const heading = showNotice(main, { engine, t, relay: config.relay, brandId: brandId(), onDone: () => {
      showChat();
      chat.focus();
    } });
    focusTarget = () => main.querySelector('.notice h2') || heading;
  }
  if (visible)
    focusTarget().focus();
}

async function start() {
  main.replaceChildren(h('p', { class: 'loading', role: 'status', text: t('loading') }));
  if (!config.relay || !config.brand)
    return fail('data-relay / data-brand');
  try {
    const directory = await shippedDirectory();
    if (!directory) {
      // Without the notice in the page the engine asks the relay for it:
      // not before the customer opens the chat, and saying so first.
      window.parleyPanel = { ready: false, waitingForOpen: true };
      await opened;
      showFetching(main, { t, relay: config.relay, brandId: brandId() });
    }
    engine = await startEngine({ relay: config.relay, pin: config.brand, directory });
  } catch (e) {
    // The chat open in another tab holds this device's installation.
    return fail(e.code === 'in-use' ? t('inUse') : e.message || String(e));
  }
  route();
  // For tests and bench/widget: when the panel became interactive (epoch ms).
  window.parleyPanel = { ready: true, at: performance.timeOrigin + performance.now() };
  return undefined;
}

// The loader opens the panel once it listens.
tellHost('ready');
start();
