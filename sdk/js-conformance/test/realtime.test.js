import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource as EventSourcePolyfill } from 'eventsource';
import { client, rejects, setup } from '../lib/helpers.js';

// The SDK's realtime service needs a global EventSource; node < 22 has none.
globalThis.EventSource ??= EventSourcePolyfill;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` holds (or fails after `ms`). */
async function until(cond, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error('timed out waiting for realtime events');
    }
    await sleep(20);
  }
}

/** Lets in-flight events arrive before asserting that none came. */
const settle = () => sleep(500);

describe('realtime', () => {
  let server;
  let pb;
  let alice;
  let bob;
  const clients = [];

  async function login(email) {
    const c = client(server.url);
    await c.collection('rt_members').authWithPassword(email, 'password123');
    clients.push(c);
    return c;
  }

  before(async () => {
    ({ server, pb } = await setup());
    clients.push(pb);
    const members = await pb.collections.create({
      name: 'rt_members',
      type: 'auth',
      listRule: 'id = @request.auth.id',
      viewRule: 'id = @request.auth.id',
      fields: [{ name: 'name', type: 'text' }],
    });
    await pb.collections.create({
      name: 'rt_notes',
      type: 'base',
      listRule: 'owner = @request.auth.id',
      viewRule: 'owner = @request.auth.id',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'secret', type: 'text', hidden: true },
        { name: 'owner', type: 'relation', collectionId: members.id, maxSelect: 1 },
      ],
    });
    for (const name of ['alice', 'bob']) {
      await pb.collection('rt_members').create({
        email: `${name}@example.com`,
        name,
        password: 'password123',
        passwordConfirm: 'password123',
      });
    }
    alice = await login('alice@example.com');
    bob = await login('bob@example.com');
  });

  after(async () => {
    for (const c of clients) {
      c.realtime.unsubscribe().catch(() => {});
      c.realtime.disconnect();
    }
    await server?.stop();
  });

  const note = (title, owner) =>
    pb.collection('rt_notes').create({ title, secret: 's3cret', owner: owner.authStore.record.id });

  it('subscribe("*") gets create, update and delete; delete carries the last state', async () => {
    const events = [];
    const unsubscribe = await alice.collection('rt_notes').subscribe('*', (e) => events.push(e));
    const n = await note('first', alice);
    await pb.collection('rt_notes').update(n.id, { title: 'renamed' });
    await pb.collection('rt_notes').delete(n.id);
    await until(() => events.length >= 3);
    assert.deepEqual(
      events.map((e) => e.action),
      ['create', 'update', 'delete'],
    );
    assert.equal(events[0].record.id, n.id);
    assert.equal(events[0].record.collectionName, 'rt_notes');
    assert.equal(events[0].record.secret, undefined, 'hidden fields stay hidden');
    assert.equal(events[1].record.title, 'renamed');
    assert.equal(events[2].record.title, 'renamed');
    assert.equal(events[2].record.owner, alice.authStore.record.id);

    await unsubscribe();
    await note('after unsubscribe', alice);
    await settle();
    assert.equal(events.length, 3);
  });

  it('each subscriber only gets the records its rules let it see', async () => {
    const seenByAlice = [];
    const seenByBob = [];
    const seenByGuest = [];
    const guest = client(server.url);
    clients.push(guest);
    await alice.collection('rt_notes').subscribe('*', (e) => seenByAlice.push(e.record.title));
    await bob.collection('rt_notes').subscribe('*', (e) => seenByBob.push(e.record.title));
    await guest.collection('rt_notes').subscribe('*', (e) => seenByGuest.push(e.record.title));
    await note('alice private', alice);
    await note('bob private', bob);
    await until(() => seenByAlice.length >= 1 && seenByBob.length >= 1);
    await settle();
    assert.deepEqual(seenByAlice, ['alice private']);
    assert.deepEqual(seenByBob, ['bob private']);
    assert.deepEqual(seenByGuest, []);
    await alice.collection('rt_notes').unsubscribe();
    await bob.collection('rt_notes').unsubscribe();
    await guest.collection('rt_notes').unsubscribe();
  });

  it('subscribe(id) follows one record under the view rule', async () => {
    const mine = await note('watched', alice);
    const theirs = await note('not yours', bob);
    const events = [];
    await alice.collection('rt_notes').subscribe(mine.id, (e) => events.push(e));
    await alice.collection('rt_notes').subscribe(theirs.id, (e) => events.push(e));
    await pb.collection('rt_notes').update(theirs.id, { title: 'still not yours' });
    await pb.collection('rt_notes').update(mine.id, { title: 'watched 2' });
    await until(() => events.length >= 1);
    await settle();
    assert.equal(events.length, 1);
    assert.equal(events[0].action, 'update');
    assert.equal(events[0].record.id, mine.id);
    assert.equal(events[0].record.title, 'watched 2');
    await alice.collection('rt_notes').unsubscribe();
  });

  it('subscription options: filter, fields and expand', async () => {
    const events = [];
    await alice.collection('rt_notes').subscribe('*', (e) => events.push(e), {
      filter: "title ~ 'keep'",
      fields: 'id,title,expand',
      expand: 'owner',
    });
    await note('drop me', alice);
    await note('keep me', alice);
    await until(() => events.length >= 1);
    await settle();
    assert.equal(events.length, 1);
    const r = events[0].record;
    assert.equal(r.title, 'keep me');
    assert.equal(r.owner, undefined);
    assert.equal(r.expand.owner.id, alice.authStore.record.id);
    assert.equal(r.expand.owner.email, 'alice@example.com');
    await alice.collection('rt_notes').unsubscribe();
  });

  it('POST /api/realtime: 400 without a client id, 404 for an unknown one', async () => {
    const err = await rejects(pb.send('/api/realtime', { method: 'POST', body: {} }), 400);
    assert.equal(err.response.data.clientId.code, 'validation_required');
    const missing = await rejects(
      pb.send('/api/realtime', { method: 'POST', body: { clientId: 'nope', subscriptions: [] } }),
      404,
    );
    assert.deepEqual(missing.response, { status: 404, message: 'Missing or invalid client id.', data: {} });
  });

  it('POST /api/realtime: another auth on the same client is 403, guest → user is allowed', async () => {
    const c = client(server.url);
    clients.push(c);
    await c.collection('rt_notes').subscribe('*', () => {});
    const clientId = c.realtime.clientId;
    assert.ok(clientId);
    const body = { clientId, subscriptions: ['rt_notes/*'] };
    await alice.send('/api/realtime', { method: 'POST', body });
    const err = await rejects(bob.send('/api/realtime', { method: 'POST', body }), 403);
    assert.equal(err.response.message, "The current and the previous request authorization don't match.");
    await rejects(client(server.url).send('/api/realtime', { method: 'POST', body }), 403);
    c.realtime.disconnect();
  });
});
