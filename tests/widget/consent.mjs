// The privacy notice and the consent choice come first: shown in the
// page's language, verified against the pinned brand key, with no
// WebSocket opened and nothing sent to the relay until the customer
// accepts. Declining leaves nothing at the relay; accepting connects.
import { run, openDemo, accept, check } from './ui_harness.mjs';

await run('consent', async (w) => {
  const page = await w.newPage();
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  // A French page: the panel speaks French.
  const { frame } = await openDemo(w, page, 'fr.html');
  await frame.getByRole('heading', { name: 'Avant de commencer' }).waitFor();
  await frame.getByText('Demo Shop keeps this conversation').waitFor();
  await frame.getByText(/version 1, signée avec la clé de la marque/).waitFor();
  const required = frame.getByRole('checkbox', { name: /support \(nécessaire/ });
  check(await required.isChecked() && await required.isDisabled(), 'the required purpose is not shown as required');
  check(sockets.length === 0, `a WebSocket was opened before consent: ${sockets}`);

  await frame.getByRole('button', { name: 'Refuser' }).click();
  await frame.getByText(/Vous avez refusé. Rien n'a été créé ni envoyé/).waitFor();
  const metrics = await (await fetch(`${w.widgetOrigin}/metrics`)).text();
  check(/^parley_frames_in_total 0$/m.test(metrics), `the relay received frames before consent:\n${metrics}`);
  check(sockets.length === 0, `a WebSocket was opened after declining: ${sockets}`);
  check(w.sql('SELECT count(*) FROM envelopes') === '0', 'envelopes stored after declining');

  // Reading the notice again and accepting connects, once (to the relay
  // that holds the brand's directory: the agent publishes it).
  await w.startAgent();
  await frame.getByRole('button', { name: 'Relire l\'information' }).click();
  await accept(frame);
  await page.waitForEvent('websocket', { predicate: () => true, timeout: 30000 }).catch(() => {});
  check(sockets.length >= 1 && sockets.every((u) => u === w.relayUrl), `after consent, WebSockets: ${sockets}`);
  await frame.getByText('Écrivez votre question ci-dessous').waitFor();
}, { agent: false });
