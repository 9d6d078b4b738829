#!/usr/bin/env node
// Open Payments peer-to-peer flow against the Shifting sandbox, driven by the
// OFFICIAL Node SDK (@interledger/open-payments 7.4.0) with response validation ON.
//
//   usage: node flow.mjs <SANDBOX_BASE>      e.g. http://127.0.0.1:41234/sandbox
//
// What the SDK does (verified by reading its 7.4.0 source, dist/client/*.js):
//  * `client` in grant requests = the walletAddressUrl as a plain STRING.
//  * Every request carries `Accept: application/json` AND `Content-Type: application/json`
//    (ky instance defaults), even GET/DELETE and the body-less POSTs (token rotate,
//    incoming-payment complete).
//  * A request is signed iff it is a POST or carries `Authorization: GNAP <token>`.
//    So: all POSTs, every GET/DELETE that has a token. Wallet-address/jwks GETs and
//    incomingPayment.getPublic are NOT signed. Covered components:
//    "@method" "@target-uri" ["authorization"] ["content-digest" "content-length" "content-type"];
//    params keyid + created (no alg). Content-Digest is sha-512.
//  * It never fetches its own wallet address; the AS alone does (jwks.json).
//  * http:// URLs are used as-is; `useHttp: true` merely rewrites every URL to http.
//  * Validation: OpenAPI specs bundled in the SDK; only 2xx responses are validated
//    (non-2xx throw OpenPaymentsClientError{status, code, description} from `error.{code,description}`).
//    The status code must be exactly the one in the spec (200 vs 201 vs 204 matter),
//    `format` date-time/uri are NOT checked, `format: uint64` (amount.value) IS.
//  Server-side shape requirements: see README.md in this folder.
import http from 'node:http';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createAuthenticatedClient,
  isPendingGrant,
  isFinalizedGrantWithAccessToken,
  OpenPaymentsClientError
} from '@interledger/open-payments';

const BASE = (process.argv[2] ?? '').replace(/\/+$/, '');
if (!/^https?:\/\/[^/]+/.test(BASE)) {
  console.error('usage: node flow.mjs <SANDBOX_BASE>   (e.g. http://127.0.0.1:41234/sandbox)');
  process.exit(2);
}
const KEY_ID = 'node-sdk-key';
const CLIENT_NAME = 'Node SDK Shop';
const INVOICE = { value: '2500', assetCode: 'EUR', assetScale: 2 }; // 25.00 EUR

// ---------- small helpers --------------------------------------------------------
const timings = {};
const t0 = performance.now();
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
async function step(name, fn) {
  process.stderr.write(`-> ${name}\n`);
  const start = performance.now();
  try {
    return await fn();
  } catch (e) {
    e.step ??= name; // remember where it broke
    throw e;
  } finally {
    timings[name] = Math.round(performance.now() - start);
  }
}
const sameAmount = (a, b) =>
  a && b && a.value === b.value && a.assetCode === b.assetCode && a.assetScale === b.assetScale;
const decodeHtml = (s) =>
  s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'")
    .replace(/&#x2F;|&#47;/gi, '/').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

async function balances() {
  const res = await fetch(`${BASE}/accounts`, { headers: { accept: 'application/json' } });
  assert(res.ok, `GET ${BASE}/accounts -> ${res.status}`);
  const { accounts } = await res.json();
  return Object.fromEntries(accounts.map((a) => [a.name, BigInt(a.balance)]));
}

// ---------- 1. our own client wallet address (third-party client, not Shifting) ----
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const jwk = { kid: KEY_ID, alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519', x: publicKey.export({ format: 'jwk' }).x };
let jwksFetches = 0;
let finishHits = 0;
let ORIGIN = '';
const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const json = (body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && path === '/client') {
    return json({ id: `${ORIGIN}/client`, publicName: CLIENT_NAME, assetCode: 'USD', assetScale: 2,
      authServer: `${BASE}/auth`, resourceServer: `${BASE}/rs` });
  }
  if (req.method === 'GET' && path === '/client/jwks.json') {
    jwksFetches++;
    return json({ keys: [jwk] });
  }
  if (req.method === 'GET' && path === '/finish') { // where the "browser" lands after consent
    finishHits++;
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end('<p>Thanks, you can close this window.</p>');
  }
  res.writeHead(404).end();
});

async function main() {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  ORIGIN = `http://127.0.0.1:${server.address().port}`;
  const CLIENT_WA = `${ORIGIN}/client`;
  const FINISH_URI = `${ORIGIN}/finish?order=42`;
  const before = await step('GET /accounts (before)', balances);

  // ---------- 2. SDK client: KeyObject private key, validation ON ----------------
  const client = await step('createAuthenticatedClient', () => createAuthenticatedClient({
    walletAddressUrl: CLIENT_WA, keyId: KEY_ID, privateKey, validateResponses: true, requestTimeoutMs: 10_000
  }));

  // ---------- 3. wallet addresses ---------------------------------------------
  const [seller, buyer] = await step('walletAddress.get', () =>
    Promise.all([client.walletAddress.get({ url: `${BASE}/bruno` }), client.walletAddress.get({ url: `${BASE}/alice` })]));
  assert(seller.assetCode === 'EUR' && seller.assetScale === 2, `bruno is EUR/2, got ${seller.assetCode}/${seller.assetScale}`);
  assert(buyer.assetCode === 'USD' && buyer.assetScale === 2, `alice is USD/2, got ${buyer.assetCode}/${buyer.assetScale}`);
  const sellerKeys = await step('walletAddress.getKeys', () => client.walletAddress.getKeys({ url: seller.id }));
  assert(Array.isArray(sellerKeys.keys), 'jwks has keys[]');

  // ---------- 4. incoming payment (non-interactive grant on seller AS) ------------
  const ipGrant = await step('grant incoming-payment', () => client.grant.request({ url: seller.authServer }, {
    access_token: { access: [{ type: 'incoming-payment', actions: ['create', 'read', 'complete', 'list'], identifier: seller.id }] }
  }));
  assert(isFinalizedGrantWithAccessToken(ipGrant), 'incoming-payment grant is granted without interaction');
  let sellerToken = ipGrant.access_token.value;
  const incoming = await step('incomingPayment.create', () => client.incomingPayment.create(
    { url: seller.resourceServer, accessToken: sellerToken },
    { walletAddress: seller.id, incomingAmount: INVOICE, metadata: { description: 'Node SDK proof' },
      expiresAt: new Date(Date.now() + 30 * 60_000).toISOString() }));
  assert(incoming.walletAddress === seller.id, 'incoming.walletAddress is the seller');
  assert(sameAmount(incoming.incomingAmount, INVOICE), 'incomingAmount echoed');
  assert(incoming.metadata?.description === 'Node SDK proof', 'metadata echoed');
  // a second, tiny incoming payment just to exercise incomingPayment.complete
  const spare = await step('incomingPayment.complete', async () => {
    const ip2 = await client.incomingPayment.create({ url: seller.resourceServer, accessToken: sellerToken },
      { walletAddress: seller.id, incomingAmount: { value: '100', assetCode: 'EUR', assetScale: 2 } });
    return client.incomingPayment.complete({ url: ip2.id, accessToken: sellerToken });
  });
  assert(spare.completed === true, 'complete() returns completed: true');

  // ---------- 5. quote (non-interactive grant on buyer AS) --------------------------
  const quoteGrant = await step('grant quote', () => client.grant.request({ url: buyer.authServer }, {
    access_token: { access: [{ type: 'quote', actions: ['create', 'read'] }] }
  }));
  assert(isFinalizedGrantWithAccessToken(quoteGrant), 'quote grant is granted without interaction');
  const created = await step('quote.create', () => client.quote.create(
    { url: buyer.resourceServer, accessToken: quoteGrant.access_token.value },
    { walletAddress: buyer.id, receiver: incoming.id, method: 'ilp' }));
  const quote = await step('quote.get', () => client.quote.get({ url: created.id, accessToken: quoteGrant.access_token.value }));
  assert(quote.id === created.id, 'quote.get returns the same quote');
  assert(sameAmount(quote.receiveAmount, INVOICE), `quote.receiveAmount is 2500 EUR/2, got ${JSON.stringify(quote.receiveAmount)}`);
  assert(quote.debitAmount.assetCode === 'USD' && quote.debitAmount.assetScale === 2, 'quote.debitAmount is USD/2');
  assert(quote.receiver === incoming.id && quote.walletAddress === buyer.id, 'quote receiver/walletAddress');

  // ---------- 6. interactive outgoing-payment grant on buyer AS ------------------
  const clientNonce = randomUUID();
  const pending = await step('grant outgoing-payment (pending)', () => client.grant.request({ url: buyer.authServer }, {
    access_token: { access: [{ type: 'outgoing-payment', actions: ['create', 'read', 'list'], identifier: buyer.id,
      limits: { debitAmount: quote.debitAmount, receiver: incoming.id } }] },
    interact: { start: ['redirect'], finish: { method: 'redirect', uri: FINISH_URI, nonce: clientNonce } }
  }));
  const pendingAt = performance.now();
  assert(isPendingGrant(pending), 'outgoing-payment grant must be pending (interaction required)');

  // ---------- 7. consent, like a browser ----------------------------------------
  const { interactRef } = await step('consent (HTML + form POST)', async () => {
    const page = await fetch(pending.interact.redirect, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert(page.status === 200, `GET interact.redirect -> ${page.status} (expected 200 HTML)`);
    const cookies = page.headers.getSetCookie().map((c) => c.split(';')[0]);
    assert(cookies.length > 0, 'consent page sets a session cookie');
    const html = await page.text();
    assert(html.includes(CLIENT_NAME), `consent page names the client "${CLIENT_NAME}"`);
    assert(/Approve/.test(html) && /Decline/.test(html), 'consent page offers Approve and Decline');
    assert(/name=["']decision["']/.test(html) && /value=["']approve["']/.test(html), 'decision=approve button present');
    const form = html.match(/<form\b[^>]*>/i)?.[0];
    assert(form && /method\s*=\s*["']?post/i.test(form), 'page has a <form method="post">');
    const m = form.match(/\baction\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i);
    assert(m, 'form has an action');
    const action = new URL(decodeHtml(m[1] ?? m[2] ?? m[3]), pending.interact.redirect).href;
    const res = await fetch(action, { method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
      body: 'decision=approve' });
    assert(res.status === 303, `POST ${action} -> ${res.status} (expected 303)`);
    const location = new URL(res.headers.get('location') ?? '', action).href;
    assert(location.startsWith(FINISH_URI), `303 Location starts with the finish uri: ${location}`);
    const params = new URL(location).searchParams;
    const hash = params.get('hash');
    const ref = params.get('interact_ref');
    assert(hash && ref, `Location carries hash and interact_ref: ${location}`);
    // GNAP finish hash: base64(sha256(clientNonce \n interact.finish \n interact_ref \n grantEndpoint))
    const expected = createHash('sha256')
      .update([clientNonce, pending.interact.finish, ref, buyer.authServer].join('\n')).digest('base64');
    assert(hash === expected, `finish hash mismatch: got ${hash}, expected ${expected}` +
      (hash.includes(' ') ? " ('+' in the hash must be percent-encoded as %2B)" : ''));
    await fetch(location); // the browser lands on our finish page
    return { interactRef: ref };
  });
  assert(finishHits === 1, 'finish uri was reached once');

  // ---------- 8. continuation after `wait` seconds ------------------------------
  const waitMs = (pending.continue.wait ?? 0) * 1000;
  await sleep(Math.max(0, waitMs - (performance.now() - pendingAt)) + 20);
  const opGrant = await step('grant.continue', () => client.grant.continue(
    { url: pending.continue.uri, accessToken: pending.continue.access_token.value }, { interact_ref: interactRef }));
  assert(isFinalizedGrantWithAccessToken(opGrant), 'continuation returns an access token');
  const opToken = opGrant.access_token.value;

  // ---------- 9. pay ---------------------------------------------------------------
  const outgoing = await step('outgoingPayment.create', () => client.outgoingPayment.create(
    { url: buyer.resourceServer, accessToken: opToken },
    { walletAddress: buyer.id, quoteId: quote.id, metadata: { description: 'Node SDK proof', order: '42' } }));
  assert(outgoing.receiver === incoming.id, 'outgoing.receiver is the incoming payment');
  assert(sameAmount(outgoing.debitAmount, quote.debitAmount), 'outgoing.debitAmount equals quote.debitAmount');

  const settled = await step('poll incomingPayment.get until completed', async () => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) {
      const ip = await client.incomingPayment.get({ url: incoming.id, accessToken: sellerToken });
      if (ip.completed) return ip;
    }
    throw new Error('incoming payment not completed within 10 s');
  });
  assert(sameAmount(settled.receivedAmount, INVOICE), `receivedAmount == incomingAmount, got ${JSON.stringify(settled.receivedAmount)}`);

  const outDone = await step('outgoingPayment.get', () => client.outgoingPayment.get({ url: outgoing.id, accessToken: opToken }));
  assert(outDone.failed === false, 'outgoing payment did not fail');
  assert(outDone.sentAmount.value === outDone.debitAmount.value, 'sentAmount == debitAmount (zero fee)');
  const outList = await step('outgoingPayment.list', () => client.outgoingPayment.list(
    { url: buyer.resourceServer, walletAddress: buyer.id, accessToken: opToken }));
  assert(outList.result.some((p) => p.id === outgoing.id), 'outgoing list contains the payment');
  const inList = await step('incomingPayment.list', () => client.incomingPayment.list(
    { url: seller.resourceServer, walletAddress: seller.id, accessToken: sellerToken }));
  assert(inList.result.some((p) => p.id === incoming.id), 'incoming list contains the payment');
  const pub = await step('incomingPayment.getPublic', () => client.incomingPayment.getPublic({ url: incoming.id }));
  assert(typeof pub.authServer === 'string', 'public incoming payment exposes authServer');

  // ---------- 10. ledger moved exactly --------------------------------------------
  const after = await step('GET /accounts (after)', balances);
  const debit = BigInt(quote.debitAmount.value);
  assert(before.alice - after.alice === debit, `alice -${debit}, observed -${before.alice - after.alice}`);
  assert(after.bruno - before.bruno === 2500n, `bruno +2500, observed +${after.bruno - before.bruno}`);

  // ---------- 11. token rotation, grant cancellation, revoked token --------------
  const rotated = await step('token.rotate', () => client.token.rotate(
    { url: ipGrant.access_token.manage, accessToken: sellerToken }));
  assert(rotated.access_token.value !== sellerToken, 'rotation issues a new token value');
  sellerToken = rotated.access_token.value;
  const again = await step('incomingPayment.get (rotated token)', () =>
    client.incomingPayment.get({ url: incoming.id, accessToken: sellerToken }));
  assert(again.completed === true, 'rotated token works');

  await step('grant.cancel', () => client.grant.cancel(
    { url: opGrant.continue.uri, accessToken: opGrant.continue.access_token.value }));
  const revokedStatus = await step('outgoingPayment.get (revoked token)', async () => {
    try {
      await client.outgoingPayment.get({ url: outgoing.id, accessToken: opToken });
    } catch (e) {
      if (e instanceof OpenPaymentsClientError) return e.status;
      throw e;
    }
    return 200;
  });
  assert(revokedStatus === 403, `revoked token must be refused with 403, got ${revokedStatus}`);
  assert(jwksFetches > 0, 'the sandbox fetched our jwks.json over HTTP');

  return {
    ok: true,
    base: BASE,
    client: CLIENT_WA,
    incomingPayment: incoming.id,
    quote: quote.id,
    outgoingPayment: outgoing.id,
    debitAmount: quote.debitAmount,
    receiveAmount: quote.receiveAmount,
    balances: { alice: [String(before.alice), String(after.alice)], bruno: [String(before.bruno), String(after.bruno)] },
    continueWaitSeconds: pending.continue.wait ?? 0,
    jwksFetches,
    timingsMs: { ...timings, total: Math.round(performance.now() - t0) }
  };
}

try {
  const summary = await main();
  console.log(JSON.stringify(summary, null, 2));
  process.exitCode = 0;
} catch (e) {
  console.error(`\nFLOW FAILED${e.step ? ` in step "${e.step}"` : ''}: ${e.message}`);
  if (e instanceof OpenPaymentsClientError) {
    console.error(JSON.stringify({ description: e.description, status: e.status, code: e.code,
      validationErrors: e.validationErrors, details: e.details }, null, 2));
  } else if (e.cause) {
    console.error(`cause: ${e.cause.code ?? ''} ${e.cause.message ?? e.cause}`.trim());
  }
  console.error('timings so far (ms):', JSON.stringify(timings));
  process.exitCode = 1;
} finally {
  server.close();
  server.closeAllConnections?.();
  process.exit(process.exitCode); // don't linger on keep-alive sockets
}
