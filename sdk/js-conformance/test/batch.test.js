import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, rejects, rid, setup } from '../lib/helpers.js';

describe('batch', () => {
  let server;
  let pb;

  before(async () => {
    ({ server, pb } = await setup());
    const teams = await pb.collections.create({
      name: 'teams',
      type: 'base',
      fields: [{ name: 'name', type: 'text', required: true }],
      listRule: '',
      viewRule: '',
      createRule: '',
    });
    await pb.collections.create({
      name: 'players',
      type: 'base',
      fields: [
        { name: 'name', type: 'text', required: true },
        { name: 'team', type: 'relation', collectionId: teams.id, maxSelect: 1 },
        { name: 'score', type: 'number' },
      ],
      indexes: ['CREATE UNIQUE INDEX idx_players_name ON players (name)'],
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: '',
      deleteRule: '',
    });
  });

  after(async () => {
    await server?.stop();
  });

  it('is refused while disabled in the settings', async () => {
    const batch = pb.createBatch();
    batch.collection('teams').create({ name: 'x' });
    const err = await rejects(batch.send(), 403);
    assert.equal(err.response.message, 'Batch requests are not allowed.');
    await pb.settings.update({ batch: { enabled: true, maxRequests: 20, timeout: 5 } });
  });

  it('creates, updates, upserts and deletes across collections in one go', async () => {
    const keep = await pb.collection('players').create({ id: rid('player', 1), name: 'keep' });
    const gone = await pb.collection('players').create({ id: rid('player', 2), name: 'gone' });
    const batch = pb.createBatch();
    batch.collection('teams').create({ id: rid('team', 1), name: 'Reds' });
    batch.collection('players').create({ id: rid('player', 3), name: 'new', team: rid('team', 1) }, { expand: 'team' });
    batch.collection('players').update(rid('player', 3), { 'score+': 7 });
    batch.collection('players').upsert({ id: keep.id, name: 'kept' });
    batch.collection('players').upsert({ id: rid('player', 4), name: 'upserted' });
    batch.collection('players').delete(gone.id);
    const results = await batch.send();
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 204]);
    assert.equal(results[1].body.expand.team.name, 'Reds');
    assert.equal(results[2].body.score, 7);
    assert.equal(results[3].body.name, 'kept');
    assert.equal(results[4].body.id, rid('player', 4));
    assert.equal(results[5].body, null);
    const names = (await pb.collection('players').getFullList({ sort: 'name' })).map((p) => p.name);
    assert.deepEqual(names, ['kept', 'new', 'upserted']);
  });

  it('rolls everything back when one request fails, naming it', async () => {
    const before = await pb.collection('teams').getList(1, 1);
    const batch = pb.createBatch();
    batch.collection('teams').create({ name: 'Blues' });
    batch.collection('players').create({ name: 'kept' }); // breaks the unique index
    const err = await rejects(batch.send(), 400);
    assert.equal(err.response.message, 'Batch transaction failed.');
    const failed = err.response.data.requests['1'];
    assert.equal(failed.code, 'batch_request_failed');
    assert.equal(failed.response.status, 400);
    assert.equal(failed.response.data.name.code, 'validation_not_unique');
    assert.equal(err.response.data.requests['0'], undefined);
    const afterwards = await pb.collection('teams').getList(1, 1);
    assert.equal(afterwards.totalItems, before.totalItems);
  });

  it('checks every request against its own rule', async () => {
    const guest = client(server.url);
    const ok = guest.createBatch();
    ok.collection('teams').create({ name: 'Greens' });
    const [created] = await ok.send();
    assert.equal(created.status, 200);

    const denied = guest.createBatch();
    denied.collection('teams').create({ name: 'Yellows' });
    denied.collection('teams').delete(created.body.id); // deleteRule null: superusers only
    const err = await rejects(denied.send(), 400);
    assert.equal(err.response.data.requests['1'].response.status, 403);
    await rejects(guest.collection('teams').getFirstListItem('name = "Yellows"'), 404);
  });

  it('uploads files with the requests they belong to', async () => {
    await pb.collections.create({
      name: 'docs',
      type: 'base',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'attachment', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
      ],
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: '',
    });
    const bytes = new TextEncoder().encode('batch file body\n');
    const batch = pb.createBatch();
    batch.collection('docs').create({ title: 'one', attachment: new File([bytes], 'notes one.txt', { type: 'text/plain' }) });
    batch.collection('docs').create({ title: 'two' });
    const [one, two] = await batch.send();
    assert.equal(one.status, 200);
    // PocketBase 0.40 re-names a batch upload twice (a second random suffix); Basalt once.
    assert.match(one.body.attachment, /^notes_one_[a-z0-9]{10}(_[a-z0-9]{10})?\.txt$/);
    assert.equal(two.body.attachment, '');
    const url = pb.files.getURL(one.body, one.body.attachment);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes);

    const failing = pb.createBatch();
    failing.collection('docs').create({ title: 'three', attachment: new File([bytes], 'three.txt', { type: 'text/plain' }) });
    failing.collection('docs').create({ title: '' });
    await rejects(failing.send(), 400);
    await rejects(pb.collection('docs').getFirstListItem('title = "three"'), 404);
  });

  it('limits the number of requests', async () => {
    await pb.settings.update({ batch: { enabled: true, maxRequests: 2 } });
    const batch = pb.createBatch();
    for (let i = 0; i < 3; i++) batch.collection('teams').create({ name: `t${i}` });
    const err = await rejects(batch.send(), 400);
    assert.equal(err.response.data.requests.code, 'validation_length_too_long');
    await pb.settings.update({ batch: { enabled: true, maxRequests: 20 } });
  });
});
