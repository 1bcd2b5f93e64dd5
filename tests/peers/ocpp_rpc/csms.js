// An independent OCPP CSMS on ocpp-rpc in strict mode: every frame, both ways, is checked
// against the OCPP JSON schemas (with ajv-formats 3, zone-less date-times are refused).
// Driven by the test suite over stdin/stdout, one JSON object per line.
// Usage: node csms.js PORT [PROTOCOL]; PROTOCOL is ocpp1.6 (the default) or ocpp2.0.1.
'use strict';
const readline = require('readline');
const { RPCServer, createRPCError } = require('ocpp-rpc');

const port = Number(process.argv[2] || 0);
const protocol = process.argv[3] || 'ocpp1.6';
const clients = new Map();
const muted = new Set();
const overrides = new Map();
let password = null;
let nextTx = 1;

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function now() { return new Date().toISOString(); }

const defaults = {
  BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
  Heartbeat: () => ({ currentTime: now() }),
  Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
  StartTransaction: () => ({ transactionId: nextTx++, idTagInfo: { status: 'Accepted' } }),
  StopTransaction: () => ({ idTagInfo: { status: 'Accepted' } }),
  MeterValues: () => ({}),
  StatusNotification: () => ({}),
  DataTransfer: () => ({ status: 'UnknownVendorId' }),
  SecurityEventNotification: () => ({}),
  DiagnosticsStatusNotification: () => ({}),
  FirmwareStatusNotification: () => ({}),
};

// OCPP 2.0.1's answers: the station assigns transaction ids, so TransactionEvent needs none.
const defaults201 = {
  BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
  Heartbeat: () => ({ currentTime: now() }),
  Authorize: () => ({ idTokenInfo: { status: 'Accepted' } }),
  TransactionEvent: () => ({}),
  StatusNotification: () => ({}),
  MeterValues: () => ({}),
  NotifyReport: () => ({}),
  ReportChargingProfiles: () => ({}),
  NotifyChargingLimit: () => ({}),
  SecurityEventNotification: () => ({}),
  FirmwareStatusNotification: () => ({}),
  LogStatusNotification: () => ({}),
};
const answers = protocol === 'ocpp1.6' ? defaults : defaults201;

const server = new RPCServer({ protocols: [protocol], strictMode: true });

server.auth((accept, reject, handshake) => {
  if (password !== null) {
    const given = handshake.password ? handshake.password.toString() : null;
    if (given !== password) { reject(401); return; }
  }
  accept({});
});

server.on('client', (client) => {
  const identity = client.identity;
  clients.set(identity, client);
  emit({ event: 'connected', identity, protocol: client.protocol });
  client.on('strictValidationFailure', (e) => emit({
    event: 'strictValidationFailure', identity, method: e.method, outbound: e.outbound,
    isCall: e.isCall, detail: String(e.error && e.error.message), params: e.params, result: e.result,
  }));
  client.on('badMessage', (e) => emit({ event: 'badCall', identity, detail: String(e.error) }));
  client.on('close', ({ code, reason }) => {
    if (clients.get(identity) === client) clients.delete(identity);
    emit({ event: 'disconnected', identity, code, reason: String(reason) });
  });
  client.handle(async ({ method, params, messageId }) => {
    emit({ event: 'call', identity, action: method, payload: params, messageId });
    if (muted.has(identity)) { await new Promise(() => {}); }
    // An answer set for one idTag (Authorize of a given card) wins over one for the action.
    const tag = params && (params.idTag !== undefined ? params.idTag
      : params.idToken && params.idToken.idToken);  // 1.6 idTag, 2.0.1 idToken
    const perTag = tag !== undefined ? `${method}|${tag}` : null;
    const make = perTag && overrides.has(perTag) ? () => overrides.get(perTag)
      : overrides.has(method) ? () => overrides.get(method) : answers[method];
    if (!make) throw createRPCError('NotImplemented', `no handler for ${method}`);
    const result = make(params);
    emit({ event: 'answered', identity, action: method, messageId });
    return result;
  });
});

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let cmd;
  try { cmd = JSON.parse(line); } catch (e) { emit({ event: 'commandError', detail: String(e) }); return; }
  try {
    if (cmd.cmd === 'call') {
      const client = clients.get(cmd.identity);
      if (!client) throw new Error(`no client ${cmd.identity}`);
      try {
        const opts = cmd.timeoutMs ? { callTimeoutMs: cmd.timeoutMs } : {};
        const result = await client.call(cmd.action, cmd.payload, opts);
        emit({ event: 'response', id: cmd.id, result });
      } catch (err) {
        emit({ event: 'error', id: cmd.id, code: err.rpcErrorCode || err.name, message: String(err.message) });
      }
    } else if (cmd.cmd === 'setResponse') {
      overrides.set(cmd.idTag !== undefined ? `${cmd.action}|${cmd.idTag}` : cmd.action, cmd.payload);
      emit({ event: 'ok', id: cmd.id });
    } else if (cmd.cmd === 'setAuth') {
      password = cmd.password;
      emit({ event: 'ok', id: cmd.id });
    } else if (cmd.cmd === 'mute') {
      if (cmd.on) muted.add(cmd.identity); else muted.delete(cmd.identity);
      emit({ event: 'ok', id: cmd.id });
    } else if (cmd.cmd === 'close') {
      const client = clients.get(cmd.identity);
      if (client) await client.close({ code: 1001, force: true });
      emit({ event: 'ok', id: cmd.id });
    } else if (cmd.cmd === 'stop') {
      await server.close({ force: true });
      process.exit(0);
    }
  } catch (e) {
    emit({ event: 'error', id: cmd.id, code: 'HarnessError', message: String(e.message) });
  }
});
rl.on('close', () => process.exit(0));

server.listen(port, '127.0.0.1').then((http) => {
  emit({ event: 'listening', port: http.address().port });
});
