// Runs the smoke module's calls in the page and publishes what they gave
// as window.parleySmoke (browser_smoke.mjs reads and checks it). No
// inline script and no eval: the page is served under a strict CSP.
'use strict';

(function () {
  const out = document.getElementById('result');

  function publish(result) {
    window.parleySmoke = result;
    out.textContent = JSON.stringify(result, null, 2);
  }

  function run(module, request) {
    // Each C call returns a malloc'd string; read it, then free it.
    const call = (name, types, args) => {
      const ptr = module.ccall(name, 'number', types, args);
      if (ptr === 0) throw new Error(name + ' returned NULL');
      const text = module.UTF8ToString(ptr);
      module.ccall('smoke_free', null, ['number'], [ptr]);
      return text;
    };
    const result = { identities: '', signatures: {}, roundTrips: [], tampered: [] };
    for (const [who, fill] of request.identities)
      result.identities += call('smoke_identity', ['number', 'string'], [fill, who]);
    for (const [name, fill, domain] of request.signatures)
      result.signatures[name] = call('smoke_sign', ['number', 'string', 'string'],
        [fill, domain, request.message]);
    for (const text of request.texts)
      result.roundTrips.push(call('smoke_round_trip', ['string'], [text]));
    for (const flip of request.flips)
      result.tampered.push(call('smoke_tampered', ['string', 'number'], [request.texts[0], flip]));
    return result;
  }

  // What to compute comes in the URL's fragment, as JSON, from the test.
  let request;
  try {
    request = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  } catch (e) {
    publish({ error: 'bad request in the URL fragment: ' + e });
    return;
  }
  ParleySmoke().then(
    (module) => {
      try {
        publish(run(module, request));
      } catch (e) {
        publish({ error: String(e && e.stack || e) });
      }
    },
    (e) => publish({ error: 'module did not load: ' + e }));
})();
