import { setup, client } from './lib/helpers.js';
const { server, pb } = await setup();
const show = async (label, fn) => { try { console.log(label, JSON.stringify(await fn())); } catch (e) { console.log(label, 'ERR', e.status, JSON.stringify(e.response)); } };
try {
  const a = await pb.collections.create({ name: 'people', type: 'base', fields: [{ name: 'name', type: 'text' }] });
  await pb.collections.create({ name: 'docs', type: 'base', fields: [
    { name: 'title', type: 'text' },
    { name: 'owner', type: 'relation', collectionId: a.id, maxSelect: 1 },
    { name: 'reqowner', type: 'relation', collectionId: a.id, maxSelect: 1 },
    { name: 'editors', type: 'relation', collectionId: a.id, maxSelect: 5, cascadeDelete: true },
    { name: 'mainp', type: 'relation', collectionId: a.id, maxSelect: 1, cascadeDelete: true },
  ]});
  const p = (n) => pb.collection('people').create({ name: n });
  const [p1, p2, p3, p4] = [await p('1'), await p('2'), await p('3'), await p('4')];
  const d1 = await pb.collection('docs').create({ title: 'd1', owner: p1.id, editors: [p2.id, p3.id] });
  const d2 = await pb.collection('docs').create({ title: 'd2', editors: [p3.id] });
  const d3 = await pb.collection('docs').create({ title: 'd3', mainp: p4.id });
  await show('delete p1 (non-cascade owner)', () => pb.collection('people').delete(p1.id));
  await show('d1 after', () => pb.collection('docs').getOne(d1.id));
  await show('delete p3 (cascade multi)', () => pb.collection('people').delete(p3.id));
  await show('docs after', async () => (await pb.collection('docs').getFullList()).map(d => [d.title, d.owner, d.editors, d.mainp]));
  await show('delete p4 (cascade single)', () => pb.collection('people').delete(p4.id));
  await show('docs after', async () => (await pb.collection('docs').getFullList()).map(d => [d.title, d.owner, d.editors, d.mainp]));
  await pb.collections.update('docs', { fields: [...(await pb.collections.getOne('docs')).fields.map(f => f.name === 'reqowner' ? { ...f, required: true } : f)] }).catch(e => console.log('upd', JSON.stringify(e.response)));
  const p5 = await p('5');
  const d4 = await pb.collection('docs').create({ title: 'd4', reqowner: p5.id });
  await show('delete p5 (required non-cascade)', () => pb.collection('people').delete(p5.id));
  await show('truncate?', () => pb.collections.getOne('docs').then(c => c.fields.map(f => f.name)));
  await show('update rename + add + remove', async () => {
    const c = await pb.collections.getOne('docs');
    const fields = c.fields.filter(f => f.name !== 'mainp').map(f => f.name === 'title' ? { ...f, name: 'heading' } : f);
    fields.push({ name: 'extra', type: 'number' });
    const u = await pb.collections.update('docs', { fields });
    return u.fields.map(f => [f.id, f.name]);
  });
  await show('record after rename', () => pb.collection('docs').getOne(d4.id));
  await show('update indexes', async () => (await pb.collections.update('docs', { indexes: ['CREATE UNIQUE INDEX idx_heading ON docs (heading)'] })).indexes);
  await show('dup heading', () => pb.collection('docs').create({ heading: 'd4', reqowner: p2.id }));
  await show('dup heading by update', () => pb.collection('docs').update(d2.id, { heading: 'd4' }));
  await show('rename coll', async () => (await pb.collections.update('docs', { name: 'documents' })).indexes);
  await show('index without name change', async () => (await pb.collections.getOne('documents')).indexes);
  await show('create with index wrong table', () => pb.collections.create({ name: 'xx', type: 'base', fields: [{ name: 'a', type: 'text' }], indexes: ['CREATE INDEX idx_a ON yy (a)'] }));
  await show('create with index bogus', () => pb.collections.create({ name: 'xx2', type: 'base', fields: [{ name: 'a', type: 'text' }], indexes: ['bogus'] }));
  await show('create with index multi', async () => (await pb.collections.create({ name: 'xx3', type: 'base', fields: [{ name: 'a', type: 'text' }, { name: 'b', type: 'number' }], indexes: ['CREATE INDEX idx_ab ON xx3 (a, b)', 'CREATE UNIQUE INDEX `idx_b` ON `xx3` (`b`)'] })).indexes);
  await show('duplicate index name', () => pb.collections.create({ name: 'xx4', type: 'base', fields: [{ name: 'a', type: 'text' }], indexes: ['CREATE INDEX idx_ab ON xx4 (a)'] }));
  await show('field name reserved', () => pb.collections.create({ name: 'xx5', type: 'base', fields: [{ name: 'expand', type: 'text' }] }));
  await show('field name bad', () => pb.collections.create({ name: 'xx6', type: 'base', fields: [{ name: 'bad name', type: 'text' }] }));
  await show('field type unknown', () => pb.collections.create({ name: 'xx7', type: 'base', fields: [{ name: 'a', type: 'nope' }] }));
  await show('relation to missing', () => pb.collections.create({ name: 'xx8', type: 'base', fields: [{ name: 'a', type: 'relation', collectionId: 'pbc_1' }] }));
  await show('text min>max', () => pb.collections.create({ name: 'xx9', type: 'base', fields: [{ name: 'a', type: 'text', min: 10, max: 5 }] }));
  await show('bad pattern', () => pb.collections.create({ name: 'xx10', type: 'base', fields: [{ name: 'a', type: 'text', pattern: '(' }] }));
  await show('name starting underscore', () => pb.collections.create({ name: '_xx', type: 'base' }));
  await show('name case dup', () => pb.collections.create({ name: 'PEOPLE', type: 'base' }));
  await show('type unknown', () => pb.collections.create({ name: 'xx11', type: 'nope' }));
  await show('no fields', () => pb.collections.create({ name: 'xx12' }));
  await show('delete collection', () => pb.collections.delete('xx12'));
  await show('after delete', () => pb.collections.getOne('xx12'));
} finally { await server.stop(); }
