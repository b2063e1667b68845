// A plugin handler: any JS (or, under tsx, TS) module exporting createHandler(config).
// config is the parsed handler file: {name, file, type, events, enabled, triggersNone, params, dir}.
export function createHandler(config) {
  return {
    // 'event' (default): every matching event in order; 'state': coalesced, read ctx.snapshot().
    kind: 'event',
    async handle(ctx) {
      // ctx: {event: {event, containerId, timeNano, attributes}, snapshot(), signal, log}
      ctx.log.info({ plugin: config.name, greeting: config.params.greeting }, `container ${ctx.event.event}`);
    },
  };
}
