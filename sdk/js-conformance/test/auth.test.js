import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getTokenPayload } from 'pocketbase';
import { client, collectionId, DATETIME_RE, ID_RE, rejects } from '../lib/helpers.js';
import { startServer } from '../lib/server.js';

const SUPERUSERS_ID = 'pbc_3142635823'; // hard-coded in the SDK's authStore.isSuperuser

describe('superuser auth', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('authWithPassword returns a token and the superuser record', async () => {
    const pb = client(server.url);
    const res = await pb.collection('_superusers').authWithPassword(server.email, server.password);
    assert.equal(pb.lastStatus, 200);
    assert.deepEqual(Object.keys(res).sort(), ['record', 'token']);
    assert.equal(typeof res.token, 'string');
    assert.equal(res.token.split('.').length, 3, 'token is a JWT');

    const rec = res.record;
    assert.deepEqual(Object.keys(rec).sort(), [
      'collectionId',
      'collectionName',
      'created',
      'email',
      'emailVisibility',
      'id',
      'updated',
      'verified',
    ]);
    assert.match(rec.id, ID_RE);
    assert.equal(rec.collectionId, SUPERUSERS_ID);
    assert.equal(collectionId('auth', '_superusers'), SUPERUSERS_ID);
    assert.equal(rec.collectionName, '_superusers');
    assert.equal(rec.email, server.email);
    assert.equal(rec.emailVisibility, false);
    assert.equal(rec.verified, true);
    assert.match(rec.created, DATETIME_RE);
    assert.match(rec.updated, DATETIME_RE);
    assert.equal('password' in rec, false);
    assert.equal('tokenKey' in rec, false);

    // The auth store is filled and recognised as a superuser session.
    assert.equal(pb.authStore.token, res.token);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, true);
    assert.equal(pb.authStore.record.id, rec.id);
  });

  it('token payload has PocketBase claims', async () => {
    const pb = client(server.url);
    const { token, record } = await pb.collection('_superusers').authWithPassword(server.email, server.password);
    const payload = getTokenPayload(token);
    assert.deepEqual(Object.keys(payload).sort(), ['collectionId', 'exp', 'id', 'refreshable', 'type']);
    assert.equal(payload.type, 'auth');
    assert.equal(payload.id, record.id);
    assert.equal(payload.collectionId, SUPERUSERS_ID);
    assert.equal(payload.refreshable, true);
    const now = Date.now() / 1000;
    assert.ok(payload.exp > now + 3600, 'token lives longer than an hour');
    assert.ok(payload.exp < now + 400 * 24 * 3600, 'token expiry is sane');
  });

  it('identity (email) is matched case-sensitively', async () => {
    // Surprising but true in PocketBase 0.40.6: the upper-cased email does not match.
    const pb = client(server.url);
    const err = await rejects(
      pb.collection('_superusers').authWithPassword(server.email.toUpperCase(), server.password),
      400,
    );
    assert.deepEqual(err.response, { data: {}, message: 'Failed to authenticate.', status: 400 });
  });

  it('authRefresh returns a fresh token for the same record', async () => {
    const pb = client(server.url);
    const first = await pb.collection('_superusers').authWithPassword(server.email, server.password);
    // exp has one-second resolution; make sure the new token differs.
    await new Promise((r) => setTimeout(r, 1100));
    const res = await pb.collection('_superusers').authRefresh();
    assert.equal(pb.lastStatus, 200);
    assert.deepEqual(Object.keys(res).sort(), ['record', 'token']);
    assert.notEqual(res.token, first.token);
    assert.deepEqual(res.record, first.record);
    assert.equal(pb.authStore.token, res.token);
    assert.ok(getTokenPayload(res.token).exp > getTokenPayload(first.token).exp);
  });

  it('authRefresh without a token is 401', async () => {
    const pb = client(server.url);
    const err = await rejects(pb.collection('_superusers').authRefresh(), 401);
    assert.deepEqual(err.response, {
      data: {},
      message: 'The request requires valid record authorization token.',
      status: 401,
    });
  });

  it('wrong password is a 400 ClientResponseError', async () => {
    const pb = client(server.url);
    const err = await rejects(pb.collection('_superusers').authWithPassword(server.email, 'wrong-password-1'), 400);
    assert.deepEqual(err.response, { data: {}, message: 'Failed to authenticate.', status: 400 });
    assert.equal(err.message, 'Failed to authenticate.');
    assert.equal(pb.authStore.token, '');
    assert.equal(pb.authStore.isValid, false);
  });

  it('unknown identity is the same 400', async () => {
    const pb = client(server.url);
    const err = await rejects(pb.collection('_superusers').authWithPassword('nobody@example.com', 'whatever-123'), 400);
    assert.deepEqual(err.response, { data: {}, message: 'Failed to authenticate.', status: 400 });
  });

  it('blank identity and password are validation errors', async () => {
    const pb = client(server.url);
    const err = await rejects(pb.collection('_superusers').authWithPassword('', ''), 400);
    assert.equal(err.response.message, 'An error occurred while validating the submitted data.');
    assert.deepEqual(err.response.data, {
      identity: { code: 'validation_required', message: 'Cannot be blank.' },
      password: { code: 'validation_required', message: 'Cannot be blank.' },
    });
  });

  it('token sent as a plain Authorization header works (no Bearer prefix)', async () => {
    const pb = client(server.url);
    const { token } = await pb.collection('_superusers').authWithPassword(server.email, server.password);

    const anon = client(server.url);
    const list = await anon.collections.getList(1, 1, { headers: { Authorization: token } });
    assert.equal(anon.lastStatus, 200);
    assert.ok(list.totalItems >= 1);

    // The SDK itself sends the raw token: a client whose store holds it works too.
    const other = client(server.url);
    other.authStore.save(token, null);
    const again = await other.collections.getList(1, 1);
    assert.equal(again.totalItems, list.totalItems);
  });

  it('"Bearer <token>" is accepted as well', async () => {
    const pb = client(server.url);
    const { token } = await pb.collection('_superusers').authWithPassword(server.email, server.password);
    const anon = client(server.url);
    const list = await anon.collections.getList(1, 1, { headers: { Authorization: `Bearer ${token}` } });
    assert.ok(list.totalItems >= 1);
  });

  it('without a token, the collections API is 401 and superuser-only records are 403', async () => {
    const pb = client(server.url);
    await pb.collection('_superusers').authWithPassword(server.email, server.password);
    await pb.collections.create({ name: 'locked', type: 'base', fields: [{ name: 'x', type: 'text' }] });

    const anon = client(server.url);
    const e1 = await rejects(anon.collections.getList(1, 1), 401);
    assert.deepEqual(e1.response, {
      data: {},
      message: 'The request requires valid record authorization token.',
      status: 401,
    });
    const e2 = await rejects(anon.collection('locked').getList(1, 1), 403);
    assert.deepEqual(e2.response, { data: {}, message: 'Only superusers can perform this action.', status: 403 });
    // A garbage token is treated as no token at all.
    await rejects(anon.collection('locked').getList(1, 1, { headers: { Authorization: 'garbage' } }), 403);
  });
});
