// What the session's store holds, read through the glue for the engine's
// API: the conversations, a conversation's history, and the export of
// everything (libparley's export JSON of each conversation, whole).
import { ParleyError } from './glue.js';

export function conversationsOf(engine) {
  const g = engine.glue;
  const list = g.json(g.m._parley_widget_conversations());
  if (!list)
    throw new ParleyError('EIO', 'the conversations could not be read');
  return list;
}

export function historyOf(engine, conv) {
  const g = engine.glue;
  const list = g.with([conv], ([c]) => g.json(g.m._parley_widget_history(c)));
  if (!list)
    throw new ParleyError('EINVAL', 'no such conversation');
  return list;
}

// {"format":"parley-widget-export/v1", "brand_id", "customer_sign_key",
//  "exported_at_ms", "conversations":[libparley's export of each]}
export function exportAll(engine) {
  const g = engine.glue;
  const parts = conversationsOf(engine).map((c) => g.with([c.id], ([id]) => {
    g.check(g.m._parley_widget_export(id));
    return g.string(g.m._parley_widget_text());
  }));
  return `{"format":"parley-widget-export/v1","brand_id":${JSON.stringify(engine.brandId)},` +
    `"customer_sign_key":"${g.string(g.m._parley_widget_sign_pk())}",` +
    `"exported_at_ms":${Date.now()},"conversations":[${parts.join(',')}]}`;
}
