// An integrator's whole job against a running Shifting server, through a client generated
// from openapi/openapi.json: every request and answer below is type-checked against the
// contract (`tsc`), and nothing of the API is written by hand.
//
//   node dist/src/job.js <base URL>
//
// 1. A seller signs up, sets a sandbox wallet and makes an API key.
// 2. With the key: registers a webhook receiver (this program), creates a room (idempotently).
// 3. A buyer signs up and starts a payment; the wallet's consent page is approved as a
//    browser would; the browser lands on the finish URL.
// 4. The signed `transaction.completed` arrives and is verified with the Standard Webhooks
//    library; the key reads the transaction, completed.
// Prints a JSON summary; exits non-zero at the first thing that is not as the contract says.

import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import createClient from "openapi-fetch";
import { Webhook } from "standardwebhooks";
import type { paths } from "../generated/shifting.js";

const base = process.argv[2];
if (!base) throw new Error("usage: job.js <base URL>");
const api = createClient<paths>({ baseUrl: base });
const password = "correct horse battery staple 42";

function fail(what: string, detail: unknown): never {
  throw new Error(`${what}: ${JSON.stringify(detail)}`);
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function person(name: string, wallet: string): Promise<string> {
  const signed = await api.POST("/api/auth/signup", {
    body: { username: name, email: `${name}@example.com`, password },
  });
  if (!signed.data) fail(`sign-up of ${name}`, signed.error);
  const token = signed.data.access_token;
  const me = await api.PATCH("/api/me", {
    headers: bearer(token),
    body: { wallet_address: `${base}/sandbox/${wallet}` },
  });
  if (!me.data) fail(`wallet of ${name}`, me.error);
  return token;
}

// The receiver: keeps every request's raw body and headers.
type Received = { body: string; headers: IncomingHttpHeaders };
const received: Received[] = [];
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    received.push({ body: Buffer.concat(chunks).toString("utf8"), headers: request.headers });
    response.writeHead(204).end();
  });
});
await new Promise<void>((ready) => receiver.listen(0, "127.0.0.1", ready));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/shifting`;

try {
  // 1.
  const seller = await person("integrator", "alice");
  const made = await api.POST("/api/me/api-keys", {
    headers: bearer(seller),
    body: { name: "Shop", scopes: ["read", "rooms:write", "webhooks:write"] },
  });
  if (!made.data) fail("API key", made.error);
  const key = made.data.secret;

  // 2.
  const hook = await api.POST("/api/webhooks", {
    headers: bearer(key),
    body: { url: receiverUrl, description: "Orders", event_types: ["transaction.completed"] },
  });
  if (!hook.data) fail("webhook", hook.error);
  const secret = hook.data.secret;
  const roomRequest = { name: "Guitar lesson", price: "25.00" };
  const room = await api.POST("/api/rooms", {
    headers: bearer(key),
    params: { header: { "Idempotency-Key": "order-1" } },
    body: roomRequest,
  });
  if (!room.data) fail("room", room.error);
  const again = await api.POST("/api/rooms", {
    headers: bearer(key),
    params: { header: { "Idempotency-Key": "order-1" } },
    body: roomRequest,
  });
  if (again.data?.code !== room.data.code || again.response.headers.get("idempotent-replayed") !== "true") {
    fail("idempotent replay", { first: room.data.code, again: again.data?.code });
  }
  const code = room.data.code;

  // 3.
  const buyer = await person("shopper", "bruno");
  const started = await api.POST("/api/rooms/{code}/payments", {
    headers: bearer(buyer),
    params: { path: { code } },
    body: {},
  });
  if (!started.data) fail("payment start", started.error);
  const transactionId = started.data.transaction.id;
  const redirect = started.data.redirect_url;
  if (!redirect) fail("no consent page", started.data);
  const page = await fetch(redirect, { redirect: "manual" });
  const cookies = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const html = await page.text();
  const action = html.match(/action="([^"]+)"/)?.[1]?.replaceAll("&amp;", "&");
  if (!action) fail("consent form", html.slice(0, 200));
  const answer = await fetch(new URL(action, redirect), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies },
    body: "decision=approve",
  });
  const finish = answer.headers.get("location");
  if (answer.status !== 303 || !finish) fail("consent answer", answer.status);
  const landed = await fetch(new URL(finish, action), { redirect: "manual" });
  if (landed.status !== 303) fail("finish", landed.status);

  // 4.
  let event: Received | undefined;
  for (let i = 0; i < 1000 && !event; i++) {
    event = received.find((r) => JSON.parse(r.body).type === "transaction.completed");
    if (!event) await new Promise((r) => setTimeout(r, 20));
  }
  if (!event) fail("no transaction.completed", received);
  const headers = Object.fromEntries(
    Object.entries(event.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
  );
  const verified = new Webhook(secret).verify(event.body, headers) as {
    type: string;
    data: { transaction_id: string; status: string; amount: { value: string; asset_code: string } };
  };
  if (verified.data.transaction_id !== transactionId) fail("event for another transaction", verified);
  let forged = false;
  try {
    new Webhook(secret).verify(event.body.replace("25", "26"), headers);
  } catch {
    forged = true;
  }
  if (!forged) fail("a changed body verified", event.body);
  const read = await api.GET("/api/transactions/{id}", {
    headers: bearer(key),
    params: { path: { id: transactionId } },
  });
  if (!read.data) fail("transaction", read.error);
  const deliveries = await api.GET("/api/webhooks/{id}/deliveries", {
    headers: bearer(key),
    params: { path: { id: hook.data.endpoint.id }, query: { limit: 10 } },
  });
  if (!deliveries.data) fail("deliveries", deliveries.error);
  console.log(
    JSON.stringify({
      ok: true,
      transaction: transactionId,
      status: read.data.status,
      event: { id: event.headers["webhook-id"], type: verified.type, status: verified.data.status, amount: verified.data.amount },
      deliveries: deliveries.data.deliveries.map((d) => ({ id: d.id, status: d.status })),
      forged_refused: forged,
    }),
  );
} finally {
  receiver.close();
}
