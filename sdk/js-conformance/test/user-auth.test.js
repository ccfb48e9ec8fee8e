import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, ClientResponseError } from '../lib/helpers.js';
import { startServer } from '../lib/server.js';

async function status(promise) {
  try {
    await promise;
    return 200;
  } catch (e) {
    assert.ok(e instanceof ClientResponseError, String(e));
    return e.status;
  }
}

describe('auth collections and API rules through the SDK', () => {
  let server;
  let su;
  const users = {};

  before(async () => {
    server = await startServer();
    su = client(server.url);
    await su.collection('_superusers').authWithPassword(server.email, server.password);
    const usersColl = await su.collections.create({
      name: 'sdk_users',
      type: 'auth',
      fields: [{ name: 'name', type: 'text' }],
      createRule: '',
      listRule: 'id = @request.auth.id',
      viewRule: 'id = @request.auth.id',
      updateRule: 'id = @request.auth.id',
      deleteRule: null,
    });
    await su.collections.create({
      name: 'sdk_posts',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'published', type: 'bool' },
        { name: 'owner', type: 'relation', collectionId: usersColl.id, maxSelect: 1 },
      ],
      listRule: 'published = true || owner = @request.auth.id',
      viewRule: 'published = true || owner = @request.auth.id',
      createRule: "@request.auth.id != '' && owner = @request.auth.id",
      updateRule: 'owner = @request.auth.id',
      deleteRule: 'owner = @request.auth.id',
    });
    for (const name of ['ann', 'ben']) {
      const pb = client(server.url);
      const rec = await pb.collection('sdk_users').create({
        email: `${name}@example.com`,
        password: 'password123',
        passwordConfirm: 'password123',
        name,
      });
      await pb.collection('sdk_users').authWithPassword(`${name}@example.com`, 'password123');
      users[name] = { pb, rec };
    }
    const ann = users.ann;
    ann.pub = await ann.pb.collection('sdk_posts').create({ title: 'hello', published: true, owner: ann.rec.id });
    ann.draft = await ann.pb.collection('sdk_posts').create({ title: 'draft', published: false, owner: ann.rec.id });
  });

  after(async () => {
    await server?.stop();
  });

  it('signup hides secrets and shows the email only to its owner', async () => {
    const guest = client(server.url);
    const rec = await guest.collection('sdk_users').create({
      email: 'cid@example.com',
      password: 'password123',
      passwordConfirm: 'password123',
    });
    assert.equal(rec.email, undefined, 'guests do not see a hidden email');
    assert.equal('password' in rec, false);
    assert.equal('tokenKey' in rec, false);
    const auth = await guest.collection('sdk_users').authWithPassword('cid@example.com', 'password123');
    assert.equal(auth.record.email, 'cid@example.com');
    assert.equal(guest.authStore.isValid, true);
    assert.equal(guest.authStore.isSuperuser, false);
    const refreshed = await guest.collection('sdk_users').authRefresh();
    assert.equal(refreshed.record.id, rec.id);
    const err = await status(guest.collection('sdk_users').create({ email: 'x@example.com', password: 'short', passwordConfirm: 'short' }));
    assert.equal(err, 400);
    assert.equal(await status(client(server.url).collection('sdk_users').authWithPassword('cid@example.com', 'wrong-pass')), 400);
    assert.equal(await status(client(server.url).collection('sdk_users').authWithPassword('nobody@example.com', 'wrong-pass')), 400);
  });

  it('list rules filter and totals count only visible records', async () => {
    const guest = client(server.url);
    const asGuest = await guest.collection('sdk_posts').getList(1, 10);
    assert.equal(asGuest.totalItems, 1);
    const asAnn = await users.ann.pb.collection('sdk_posts').getList(1, 10);
    assert.equal(asAnn.totalItems, 2);
    const asBen = await users.ben.pb.collection('sdk_posts').getFullList();
    assert.deepEqual(asBen.map((p) => p.title), ['hello']);
    const asSu = await su.collection('sdk_posts').getList(1, 10);
    assert.equal(asSu.totalItems, 2);
    const people = await users.ben.pb.collection('sdk_users').getFullList();
    assert.deepEqual(people.map((u) => u.id), [users.ben.rec.id]);
  });

  it('view, update and delete rules answer 404, create rules 400, null rules 403', async () => {
    const { ann, ben } = users;
    assert.equal(await status(ben.pb.collection('sdk_posts').getOne(ann.draft.id)), 404);
    assert.equal(await status(client(server.url).collection('sdk_posts').getOne(ann.draft.id)), 404);
    assert.equal((await ann.pb.collection('sdk_posts').getOne(ann.draft.id)).title, 'draft');
    assert.equal(await status(ben.pb.collection('sdk_posts').update(ann.pub.id, { title: 'mine' })), 404);
    assert.equal(await status(ben.pb.collection('sdk_posts').create({ title: 'x', owner: ann.rec.id })), 400);
    assert.equal(await status(client(server.url).collection('sdk_posts').create({ title: 'x', owner: ann.rec.id })), 400);
    assert.equal(await status(ben.pb.collection('sdk_posts').delete(ann.pub.id)), 404);
    assert.equal(await status(ben.pb.collection('sdk_users').delete(ben.rec.id)), 403);
    const updated = await ann.pb.collection('sdk_posts').update(ann.pub.id, { title: 'hello again' });
    assert.equal(updated.title, 'hello again');
  });

  it('expand shows relations only to those who may view them', async () => {
    const path = users.ann.pub.id;
    const asBen = await users.ben.pb.collection('sdk_posts').getOne(path, { expand: 'owner' });
    assert.equal(asBen.expand?.owner, undefined);
    const asAnn = await users.ann.pb.collection('sdk_posts').getOne(path, { expand: 'owner' });
    assert.equal(asAnn.expand.owner.id, users.ann.rec.id);
  });

  it('a password change needs the old password and ends other sessions', async () => {
    const pb = client(server.url);
    const rec = await pb.collection('sdk_users').create({ email: 'dee@example.com', password: 'password123', passwordConfirm: 'password123' });
    await pb.collection('sdk_users').authWithPassword('dee@example.com', 'password123');
    const other = client(server.url);
    await other.collection('sdk_users').authWithPassword('dee@example.com', 'password123');
    assert.equal(await status(pb.collection('sdk_users').update(rec.id, { password: 'newpassword1', passwordConfirm: 'newpassword1' })), 400);
    await pb.collection('sdk_users').update(rec.id, { password: 'newpassword1', passwordConfirm: 'newpassword1', oldPassword: 'password123' });
    assert.equal(await status(other.collection('sdk_users').authRefresh()), 401);
    await client(server.url).collection('sdk_users').authWithPassword('dee@example.com', 'newpassword1');
  });

  it('auth methods, verification requests and impersonation', async () => {
    const methods = await client(server.url).collection('sdk_users').listAuthMethods();
    assert.equal(methods.password.enabled, true);
    assert.deepEqual(methods.password.identityFields, ['email']);
    assert.equal(methods.oauth2.enabled, false);
    assert.equal(await client(server.url).collection('sdk_users').requestVerification('nobody@example.com'), true);
    assert.equal(await client(server.url).collection('sdk_users').requestPasswordReset('nobody@example.com'), true);
    const impersonated = await su.collection('sdk_users').impersonate(users.ben.rec.id, 60);
    assert.equal(impersonated.authStore.record.id, users.ben.rec.id);
    const mine = await impersonated.collection('sdk_users').getFullList();
    assert.deepEqual(mine.map((u) => u.id), [users.ben.rec.id]);
    assert.equal(await status(users.ben.pb.collection('sdk_users').impersonate(users.ann.rec.id, 60)), 403);
  });
});
