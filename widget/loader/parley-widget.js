/*
 * Parley's loader: the one script a brand puts on its pages.
 *
 *   <script src="https://relay.example/parley-widget.js" async
 *           data-relay="wss://relay.example/" data-brand="parley-brand-v1 ..."></script>
 *
 * It holds no part of the chat and no key. It draws the launcher bubble in
 * a Shadow DOM (the page's CSS cannot reach it) and opens the chat
 * panel in an iframe served from the widget's own origin (the folder this
 * script came from), where the engine, the keys and the conversation live.
 * The configuration travels to the panel in the iframe's URL fragment,
 * never sent to a server; afterwards the two talk only through postMessage,
 * each side checking the other's origin and window. The panel tells the
 * page only that it is ready, that it wants to close, and whether
 * something new arrived while it was closed; never a text, a name or a key.
 * See docs/widget.md.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || window.__parleyWidget)
    return;
  window.__parleyWidget = true;

  var PROTOCOL = 'parley-widget-1';
  var base = new URL(script.src, document.baseURI);
  var frameUrl = new URL('parley/panel.html', base);
  var frameOrigin = frameUrl.origin;
  var data = script.dataset;

  function language() {
    var lang = data.lang || document.documentElement.lang || navigator.language || 'en';
    return /^fr\b/i.test(lang) ? 'fr' : 'en';
  }

  var lang = language();
  var labels = {
    en: { open: 'Open the support chat', close: 'Close the support chat', unread: 'new message' },
    fr: { open: 'Ouvrir la discussion avec le support', close: 'Fermer la discussion avec le support',
      unread: 'nouveau message' },
  }[lang];

  function fail(why) {
    if (window.console)
      console.error('parley-widget: ' + why);
  }

  // The pin line: data-brand, or fetched from data-brand-url (one line, the
  // client pin that parley-keys writes).
  function brandPin() {
    if (data.brand)
      return Promise.resolve(data.brand.trim());
    if (!data.brandUrl)
      return Promise.reject(new Error('data-brand or data-brand-url is required'));
    return fetch(new URL(data.brandUrl, document.baseURI).href, { credentials: 'omit' })
      .then(function (r) {
        if (!r.ok)
          throw new Error('data-brand-url: HTTP ' + r.status);
        return r.text();
      })
      .then(function (text) {
        var line = text.split('\n').filter(function (l) { return /^parley-brand-v\d+ /.test(l); })[0];
        if (!line)
          throw new Error('data-brand-url: no parley-brand line');
        return line.trim();
      });
  }

  var host, root, button, badge, frame, opened = false, ready = false;

  var css = [
    ':host{all:initial}',
    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483646;width:60px;height:60px;',
    'border-radius:50%;border:0;padding:0;margin:0;cursor:pointer;background:#1f4ea8;color:#fff;',
    'box-shadow:0 4px 14px rgba(0,0,0,.3);display:flex;align-items:center;justify-content:center}',
    '.launcher:hover{background:#173d85}',
    '.launcher:focus-visible{outline:3px solid #ffbf47;outline-offset:3px}',
    '.launcher svg{width:30px;height:30px;fill:currentColor}',
    '.badge{position:absolute;top:2px;right:2px;width:16px;height:16px;border-radius:50%;',
    'background:#c4161c;border:2px solid #fff;display:none}',
    '.badge.on{display:block}',
    '.frame{position:fixed;right:20px;bottom:92px;z-index:2147483647;width:380px;',
    'height:min(620px,calc(100vh - 112px));border:0;border-radius:12px;background:#fff;',
    'box-shadow:0 8px 30px rgba(0,0,0,.3);visibility:hidden;opacity:0;transition:opacity .15s}',
    '.frame.open{visibility:visible;opacity:1}',
    '@media (max-width:480px){.frame{right:0;bottom:0;width:100vw;height:100%;border-radius:0}',
    '.launcher.hidden{display:none}}',
    '@media (prefers-reduced-motion:reduce){.frame{transition:none}}',
  ].join('');
  var chatIcon = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';
  var closeIcon = 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z';
  var SVG = 'http://www.w3.org/2000/svg';

  // No innerHTML: pages that require Trusted Types keep working.
  function icon(d) {
    var svg = document.createElementNS(SVG, 'svg');
    var path = document.createElementNS(SVG, 'path');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    path.setAttribute('d', d);
    svg.appendChild(path);
    return svg;
  }

  // A constructed style sheet is not subject to the page's style-src, so a
  // page whose CSP forbids inline styles still shows the launcher.
  function addStyle(shadow) {
    if (shadow.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === 'function') {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(css);
        shadow.adoptedStyleSheets = [sheet];
        return;
      } catch (e) { /* older browsers: a style element below */ }
    }
    var style = document.createElement('style');
    style.textContent = css;
    shadow.appendChild(style);
  }

  function post(message) {
    if (frame && frame.contentWindow && ready) {
      message.protocol = PROTOCOL;
      frame.contentWindow.postMessage(message, frameOrigin);
    }
  }

  function setOpen(open, byKeyboard) {
    opened = open;
    frame.classList.toggle('open', open);
    frame.setAttribute('aria-hidden', open ? 'false' : 'true');
    frame.tabIndex = open ? 0 : -1;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    button.setAttribute('aria-label', open ? labels.close : labels.open);
    button.replaceChildren(icon(open ? closeIcon : chatIcon), badge);
    button.classList.toggle('hidden', open);
    if (open) {
      badge.classList.remove('on');
      frame.focus();
      post({ type: 'open' });
    } else {
      post({ type: 'close' });
      if (byKeyboard !== false)
        button.focus();
    }
  }

  function onMessage(event) {
    // Only the panel's window, from the panel's origin.
    if (!frame || event.source !== frame.contentWindow || event.origin !== frameOrigin)
      return;
    var m = event.data;
    if (!m || typeof m !== 'object' || m.protocol !== PROTOCOL)
      return;
    if (m.type === 'ready') {
      ready = true;
      if (opened)
        post({ type: 'open' });
    } else if (m.type === 'close' && opened) {
      setOpen(false);
    } else if (m.type === 'attention' && !opened) {
      badge.classList.add('on');
      button.setAttribute('aria-label', labels.open + ' (' + labels.unread + ')');
    }
  }

  function build(pin) {
    host = document.createElement('div');
    host.setAttribute('data-parley-widget', '');
    root = host.attachShadow({ mode: 'open' });
    addStyle(root);

    badge = document.createElement('span');
    badge.className = 'badge';
    button = document.createElement('button');
    button.type = 'button';
    button.className = 'launcher';
    button.addEventListener('click', function (e) { setOpen(!opened, e.detail === 0); });
    root.appendChild(button);

    // Everything the panel needs, in the fragment (not sent to any server).
    var config = new URLSearchParams();
    config.set('relay', data.relay || '');
    config.set('brand', pin);
    config.set('host', location.origin);
    config.set('lang', lang);
    if (data.queue)
      config.set('queue', data.queue);
    if (data.directory)
      config.set('directory', new URL(data.directory, base).href);
    frame = document.createElement('iframe');
    frame.className = 'frame';
    frame.title = lang === 'fr' ? 'Discussion avec le support' : 'Support chat';
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-downloads');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.src = frameUrl.href + '#' + config.toString();
    root.appendChild(frame);
    setOpen(false, false);
    window.addEventListener('message', onMessage);
    (document.body || document.documentElement).appendChild(host);
  }

  if (!data.relay) {
    fail('data-relay is required');
    return;
  }
  brandPin().then(build, function (e) { fail(e.message); });
})();
