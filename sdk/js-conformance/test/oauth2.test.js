// OAuth2 through the SDK's listAuthMethods + authWithOAuth2Code, against a fake
// OpenID Connect provider on loopback (token + userinfo endpoints; it checks the
// client credentials and the PKCE verifier against the consented challenge).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { EventSource as EventSourcePolyfill } from 'eventsource';
import { client, rejects, setup } from '../lib/helpers.js';

// authWithOAuth2 listens on realtime: the SDK needs a global EventSource (node < 22 has none).
globalThis.EventSource ??= EventSourcePolyfill;

const CLIENT_ID = 'sdk-client';
const CLIENT_SECRET = 'sdk-secret';
const REDIRECT = 'http://127.0.0.1/callback';

const s256 = (v) => crypto.createHash('sha256').update(v).digest('base64url');

function fakeProvider() {
  const codes = new Map();
  const tokens = new Map();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const reply = (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/token') {
        const form = new URLSearchParams(raw);
        const grant = codes.get(form.get('code'));
        codes.delete(form.get('code'));
        const ok =
          grant &&
          form.get('client_id') === CLIENT_ID &&
          form.get('client_secret') === CLIENT_SECRET &&
          form.get('redirect_uri') === grant.redirect &&
          s256(form.get('code_verifier') ?? '') === grant.challenge;
        if (!ok) return reply(400, { error: 'invalid_grant' });
        const token = `at-${crypto.randomUUID()}`;
        tokens.set(token, grant.user);
        return reply(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
      }
      if (req.method === 'GET' && req.url === '/userinfo') {
        const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
        return user ? reply(200, user) : reply(401, {});
      }
      reply(404, {});
    });
  });
  return {
    listen: () => new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${server.address().port}`))),
    close: () => new Promise((r) => server.close(r)),
    consent(challenge, user, redirect = REDIRECT) {
      const code = `code-${crypto.randomUUID()}`;
      codes.set(code, { challenge, user, redirect });
      return code;
    },
  };
}

describe('oauth2', () => {
  let server, pb, fake, fakeURL;
  before(async () => {
    ({ server, pb } = await setup());
    fake = fakeProvider();
    fakeURL = await fake.listen();
    await pb.collections.create({
      name: 'members',
      type: 'auth',
      createRule: '',
      fields: [{ name: 'name', type: 'text' }],
      oauth2: {
        enabled: true,
        mappedFields: { name: 'name' },
        providers: [
          {
            name: 'oidc',
            displayName: 'Fake',
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            authURL: `${fakeURL}/auth`,
            tokenURL: `${fakeURL}/token`,
            userInfoURL: `${fakeURL}/userinfo`,
          },
        ],
      },
    });
  });
  after(async () => {
    await fake?.close();
    await server?.stop();
  });

  async function signIn(user) {
    const guest = client(server.url);
    const methods = await guest.collection('members').listAuthMethods();
    const p = methods.oauth2.providers.find((x) => x.name === 'oidc');
    const code = fake.consent(p.codeChallenge, user);
    const res = await guest.collection('members').authWithOAuth2Code(p.name, code, p.codeVerifier, REDIRECT);
    return { guest, res };
  }

  it('listAuthMethods describes the provider with a PKCE pair', async () => {
    const methods = await client(server.url).collection('members').listAuthMethods();
    assert.equal(methods.oauth2.enabled, true);
    const [p] = methods.oauth2.providers;
    assert.equal(p.name, 'oidc');
    assert.equal(p.displayName, 'Fake');
    assert.equal(p.codeChallengeMethod, 'S256');
    assert.equal(p.codeChallenge, s256(p.codeVerifier));
    assert.ok(p.authURL.startsWith(`${fakeURL}/auth?`));
    assert.ok(p.authURL.endsWith('&redirect_uri='));
    assert.ok(!JSON.stringify(methods).includes(CLIENT_SECRET));
  });

  it('authWithOAuth2Code signs up, then signs the same record in', async () => {
    const user = { sub: 'sdk-1', name: 'Sdk One', email: 'sdk1@example.com', email_verified: true };
    const first = await signIn(user);
    assert.equal(first.res.meta.isNew, true);
    assert.equal(first.res.record.email, 'sdk1@example.com');
    assert.equal(first.res.record.name, 'Sdk One');
    assert.equal(first.res.record.verified, true);
    assert.ok(first.guest.authStore.isValid);
    assert.equal(first.guest.authStore.record.id, first.res.record.id);

    const second = await signIn(user);
    assert.equal(second.res.meta.isNew, false);
    assert.equal(second.res.record.id, first.res.record.id);
  });

  it('authWithOAuth2 (all in one) gets the code through /api/oauth2-redirect over realtime', async () => {
    const user = { sub: 'popup-1', name: 'Popup', email: 'popup@example.com', email_verified: true };
    const guest = client(server.url);
    let landed;
    const res = await guest.collection('members').authWithOAuth2({
      provider: 'oidc',
      // Instead of a popup: the provider consents and sends the browser back.
      urlCallback: async (url) => {
        const u = new URL(url);
        assert.equal(`${u.origin}${u.pathname}`, `${fakeURL}/auth`);
        const redirect = u.searchParams.get('redirect_uri');
        assert.equal(redirect, `${server.url}/api/oauth2-redirect`);
        const code = fake.consent(u.searchParams.get('code_challenge'), user, redirect);
        const back = new URL(redirect);
        back.searchParams.set('code', code);
        back.searchParams.set('state', u.searchParams.get('state'));
        landed = await fetch(back);
      },
    });
    assert.equal(landed.status, 200);
    assert.match(await landed.text(), /signed in/i);
    assert.equal(res.record.email, 'popup@example.com');
    assert.ok(guest.authStore.isValid);

    // A state naming no waiting client is refused.
    const stray = await fetch(`${server.url}/api/oauth2-redirect?code=x&state=nobody`);
    assert.equal(stray.status, 400);
  });

  it('the collection never shows the client secret', async () => {
    const c = await pb.collections.getOne('members');
    assert.equal(c.oauth2.providers[0].clientId, CLIENT_ID);
    assert.ok(!JSON.stringify(c).includes(CLIENT_SECRET));
  });

  it('an unknown provider is a 400', async () => {
    const err = await rejects(
      client(server.url).collection('members').authWithOAuth2Code('nope', 'code', 'verifier', REDIRECT),
      400,
    );
    assert.equal(err.response.data.provider.code, 'validation_invalid_provider');
  });
});
