// Cross-checks Shifting's signatures with the Interledger reference implementation.
// stdin: {"pem", "kid", "jwk", "verify": [{name, method, url, headers, body?}], "sign": [{name, method, url, headers, body?}]}
// stdout: {"verified": {name: boolean}, "signed": {name: headers}}
import crypto from 'node:crypto';
import utils from '@interledger/http-signature-utils';

const { createHeaders, validateSignatureHeaders, validateSignature } = utils;

let input = '';
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);

const verified = {};
for (const request of job.verify) {
  verified[request.name] = validateSignatureHeaders(request) && (await validateSignature(job.jwk, request));
}

const privateKey = crypto.createPrivateKey(job.pem);
const signed = {};
for (const request of job.sign) {
  signed[request.name] = await createHeaders({ request, privateKey, keyId: job.kid });
}

process.stdout.write(JSON.stringify({ verified, signed }));
