import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { codes, collectionId, DATETIME_RE, fieldId, rejects, setup } from '../lib/helpers.js';

const COLLECTION_KEYS = [
  'createRule',
  'created',
  'deleteRule',
  'fields',
  'id',
  'indexes',
  'listRule',
  'name',
  'system',
  'type',
  'updateRule',
  'updated',
  'viewRule',
];

// The implicit primary key field every base collection gets.
const ID_FIELD = {
  autogeneratePattern: '[a-z0-9]{15}',
  help: '',
  hidden: false,
  id: 'text3208210256',
  max: 15,
  min: 15,
  name: 'id',
  pattern: '^[a-z0-9]+$',
  presentable: false,
  primaryKey: true,
  required: true,
  system: true,
  type: 'text',
};

const common = (type, name, extra) => ({
  help: '',
  hidden: false,
  id: fieldId(type, name),
  name,
  presentable: false,
  required: false,
  system: false,
  type,
  ...extra,
});

describe('collections', () => {
  let server;
  let pb;
  let people;
  before(async () => {
    ({ server, pb } = await setup());
    people = await pb.collections.create({
      name: 'people',
      type: 'base',
      fields: [{ name: 'name', type: 'text', required: true }],
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('creates a minimal base collection with the implicit id field', async () => {
    assert.equal(pb.lastStatus, 200); // from before(): the create of `people`
    const c = await pb.collections.create({ name: 'minimal', type: 'base' });
    assert.equal(pb.lastStatus, 200);
    assert.deepEqual(Object.keys(c).sort(), COLLECTION_KEYS);
    assert.equal(c.id, collectionId('base', 'minimal'));
    assert.equal(c.name, 'minimal');
    assert.equal(c.type, 'base');
    assert.equal(c.system, false);
    for (const rule of ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule']) {
      assert.equal(c[rule], null, rule);
    }
    // No created/updated autodate fields are added implicitly by the API.
    assert.deepEqual(c.fields, [ID_FIELD]);
    assert.deepEqual(c.indexes, []);
    assert.match(c.created, DATETIME_RE);
    assert.match(c.updated, DATETIME_RE);
    assert.equal(c.created, c.updated);
  });

  it('creates a collection with every field type and echoes their exact options', async () => {
    const c = await pb.collections.create({
      name: 'articles',
      type: 'base',
      fields: [
        { name: 'title', type: 'text', required: true, min: 3, max: 20, pattern: '^[A-Za-z0-9 ]+$' },
        { name: 'views', type: 'number', min: 0, max: 1000, onlyInt: true },
        { name: 'score', type: 'number' },
        { name: 'published', type: 'bool' },
        { name: 'contact', type: 'email' },
        { name: 'site', type: 'url' },
        { name: 'content', type: 'editor' },
        { name: 'due', type: 'date' },
        { name: 'status', type: 'select', values: ['draft', 'live', 'archived'], maxSelect: 1 },
        { name: 'labels', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3 },
        { name: 'meta', type: 'json' },
        { name: 'author', type: 'relation', collectionId: people.id, maxSelect: 1 },
        { name: 'coauthors', type: 'relation', collectionId: people.id, maxSelect: 5, cascadeDelete: true },
        { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
        { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
      ],
      indexes: ['CREATE UNIQUE INDEX idx_articles_title ON articles (title)'],
    });
    assert.equal(c.id, collectionId('base', 'articles'));
    assert.deepEqual(c.fields, [
      ID_FIELD,
      common('text', 'title', {
        autogeneratePattern: '',
        max: 20,
        min: 3,
        pattern: '^[A-Za-z0-9 ]+$',
        primaryKey: false,
        required: true,
      }),
      common('number', 'views', { max: 1000, min: 0, onlyInt: true }),
      common('number', 'score', { max: null, min: null, onlyInt: false }),
      common('bool', 'published', {}),
      common('email', 'contact', { exceptDomains: [], onlyDomains: [] }),
      common('url', 'site', { exceptDomains: [], onlyDomains: [] }),
      common('editor', 'content', { convertURLs: false, maxSize: 0 }),
      common('date', 'due', { max: '', min: '' }),
      common('select', 'status', { maxSelect: 1, values: ['draft', 'live', 'archived'] }),
      common('select', 'labels', { maxSelect: 3, values: ['a', 'b', 'c', 'd'] }),
      common('json', 'meta', { maxSize: 0 }),
      common('relation', 'author', { cascadeDelete: false, collectionId: people.id, maxSelect: 1, minSelect: 0 }),
      common('relation', 'coauthors', { cascadeDelete: true, collectionId: people.id, maxSelect: 5, minSelect: 0 }),
      // autodate fields carry neither `help` nor `required`.
      {
        hidden: false,
        id: fieldId('autodate', 'created'),
        name: 'created',
        onCreate: true,
        onUpdate: false,
        presentable: false,
        system: false,
        type: 'autodate',
      },
      {
        hidden: false,
        id: fieldId('autodate', 'updated'),
        name: 'updated',
        onCreate: true,
        onUpdate: true,
        presentable: false,
        system: false,
        type: 'autodate',
      },
    ]);
    assert.deepEqual(c.indexes, ['CREATE UNIQUE INDEX idx_articles_title ON articles (title)']);
  });

  it('getOne by name and by id, getList with filter/sort, getFullList', async () => {
    const byName = await pb.collections.getOne('articles');
    const byId = await pb.collections.getOne(collectionId('base', 'articles'));
    assert.deepEqual(byName, byId);
    assert.equal(byName.name, 'articles');

    const list = await pb.collections.getList(1, 10, { filter: "name = 'articles' || name = 'people'", sort: 'name' });
    assert.deepEqual(Object.keys(list).sort(), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
    assert.equal(list.page, 1);
    assert.equal(list.perPage, 10);
    assert.equal(list.totalItems, 2);
    assert.equal(list.totalPages, 1);
    assert.deepEqual(
      list.items.map((c) => c.name),
      ['articles', 'people'],
    );
    assert.deepEqual(list.items[0], byName);

    const desc = await pb.collections.getList(1, 2, { filter: 'system = false', sort: '-name' });
    assert.ok(desc.items.length <= 2);
    assert.ok(desc.items[0].name.localeCompare(desc.items[1].name) > 0);

    const all = await pb.collections.getFullList({ filter: 'system = false' });
    const names = all.map((c) => c.name);
    for (const n of ['people', 'minimal', 'articles']) {
      assert.ok(names.includes(n), `${n} listed`);
    }
    // _superusers is a system auth collection.
    const su = await pb.collections.getOne('_superusers');
    assert.equal(su.id, 'pbc_3142635823');
    assert.equal(su.type, 'auth');
    assert.equal(su.system, true);
  });

  it('getOne/update/delete of a missing collection is 404', async () => {
    const expected = { data: {}, message: "The requested resource wasn't found.", status: 404 };
    assert.deepEqual((await rejects(pb.collections.getOne('nope'), 404)).response, expected);
    assert.deepEqual((await rejects(pb.collections.update('nope', { name: 'x' }), 404)).response, expected);
    assert.deepEqual((await rejects(pb.collections.delete('nope'), 404)).response, expected);
  });

  it('PATCH renaming a field keeps its id and the stored values', async () => {
    await pb.collections.create({
      name: 'notes',
      type: 'base',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'obsolete', type: 'number' },
      ],
    });
    const rec = await pb.collection('notes').create({ title: 'kept value', obsolete: 7 });
    const before = await pb.collections.getOne('notes');
    const titleField = before.fields.find((f) => f.name === 'title');
    assert.equal(titleField.id, fieldId('text', 'title'));

    const fields = before.fields
      .filter((f) => f.name !== 'obsolete')
      .map((f) => (f.name === 'title' ? { ...f, name: 'heading' } : f));
    fields.push({ name: 'extra', type: 'bool' });
    const updated = await pb.collections.update('notes', { fields });
    assert.equal(pb.lastStatus, 200);
    assert.deepEqual(
      updated.fields.map((f) => [f.id, f.name, f.type]),
      [
        ['text3208210256', 'id', 'text'],
        [fieldId('text', 'title'), 'heading', 'text'],
        [fieldId('bool', 'extra'), 'extra', 'bool'],
      ],
    );
    assert.equal(updated.id, before.id);
    assert.equal(updated.created, before.created);
    assert.match(updated.updated, DATETIME_RE);

    const after = await pb.collection('notes').getOne(rec.id);
    assert.deepEqual(after, {
      collectionId: before.id,
      collectionName: 'notes',
      extra: false,
      heading: 'kept value',
      id: rec.id,
    });
  });

  it('PATCH renaming the collection keeps its id; records follow', async () => {
    await pb.collections.create({ name: 'oldname', type: 'base', fields: [{ name: 'v', type: 'text' }] });
    const rec = await pb.collection('oldname').create({ v: 'x' });
    const renamed = await pb.collections.update('oldname', { name: 'newname' });
    assert.equal(renamed.name, 'newname');
    assert.equal(renamed.id, collectionId('base', 'oldname'));
    const got = await pb.collection('newname').getOne(rec.id);
    assert.equal(got.collectionName, 'newname');
    assert.equal(got.v, 'x');
    await rejects(pb.collections.getOne('oldname'), 404);
  });

  it('a unique index rejects duplicates with validation_not_unique', async () => {
    await pb.collection('articles').create({ title: 'Unique One' });
    const err = await rejects(pb.collection('articles').create({ title: 'Unique One' }), 400);
    assert.deepEqual(err.response, {
      data: { title: { code: 'validation_not_unique', message: 'Value must be unique.' } },
      message: 'Failed to create record.',
      status: 400,
    });
    const other = await pb.collection('articles').create({ title: 'Unique Two' });
    const err2 = await rejects(pb.collection('articles').update(other.id, { title: 'Unique One' }), 400);
    assert.deepEqual(err2.response, {
      data: { title: { code: 'validation_not_unique', message: 'Value must be unique.' } },
      message: 'Failed to update record.',
      status: 400,
    });
  });

  it('indexes can be added later and a multi-column index is kept verbatim', async () => {
    const c = await pb.collections.update('notes', {
      indexes: ['CREATE INDEX idx_notes_heading ON notes (heading, extra)', 'CREATE UNIQUE INDEX idx_notes_u ON notes (heading)'],
    });
    assert.deepEqual(c.indexes, [
      'CREATE INDEX idx_notes_heading ON notes (heading, extra)',
      'CREATE UNIQUE INDEX idx_notes_u ON notes (heading)',
    ]);
    const err = await rejects(pb.collection('notes').create({ heading: 'kept value' }), 400);
    assert.deepEqual(codes(err), { heading: 'validation_not_unique' });
  });

  it('collection validation errors', async () => {
    let err = await rejects(pb.collections.create({ name: 'people', type: 'base' }), 400);
    assert.deepEqual(err.response, {
      data: {
        name: {
          code: 'validation_collection_name_exists',
          message: 'Collection name must be unique (case insensitive).',
        },
      },
      message: 'Failed to create collection.',
      status: 400,
    });
    err = await rejects(pb.collections.create({ name: 'PEOPLE', type: 'base' }), 400);
    assert.deepEqual(codes(err), { name: 'validation_collection_name_exists' });

    err = await rejects(pb.collections.create({ name: '', type: 'base' }), 400);
    assert.deepEqual(err.response.data, { name: { code: 'validation_required', message: 'Cannot be blank.' } });

    err = await rejects(pb.collections.create({ name: 'bad name', type: 'base' }), 400);
    assert.deepEqual(err.response.data, {
      name: { code: 'validation_match_invalid', message: 'Must be in a valid format.' },
    });

    err = await rejects(pb.collections.create({ name: 'weird', type: 'nope' }), 400);
    assert.deepEqual(err.response.data, { type: { code: 'validation_in_invalid', message: 'Must be a valid value.' } });

    // Field errors are keyed by the field's index in `fields` (index 0 is the implicit id field).
    err = await rejects(
      pb.collections.create({ name: 'badsel', type: 'base', fields: [{ name: 's', type: 'select' }] }),
      400,
    );
    assert.deepEqual(err.response, {
      data: { fields: { 1: { values: { code: 'validation_required', message: 'Cannot be blank.' } } } },
      message: 'Failed to create collection.',
      status: 400,
    });

    err = await rejects(
      pb.collections.create({ name: 'badrel', type: 'base', fields: [{ name: 'r', type: 'relation' }] }),
      400,
    );
    assert.deepEqual(err.response.data, {
      fields: { 1: { collectionId: { code: 'validation_required', message: 'Cannot be blank.' } } },
    });

    err = await rejects(
      pb.collections.create({
        name: 'badrel2',
        type: 'base',
        fields: [{ name: 'r', type: 'relation', collectionId: 'pbc_1' }],
      }),
      400,
    );
    assert.deepEqual(err.response.data, {
      fields: {
        1: {
          collectionId: {
            code: 'validation_field_relation_missing_collection',
            message: "The relation collection doesn't exist.",
          },
        },
      },
    });

    err = await rejects(
      pb.collections.create({ name: 'badfield', type: 'base', fields: [{ name: 'bad name', type: 'text' }] }),
      400,
    );
    assert.deepEqual(err.response.data, {
      fields: { 1: { name: { code: 'validation_match_invalid', message: 'Must be in a valid format.' } } },
    });

    err = await rejects(
      pb.collections.create({ name: 'reserved', type: 'base', fields: [{ name: 'expand', type: 'text' }] }),
      400,
    );
    assert.deepEqual(err.response.data, {
      fields: { 1: { name: { code: 'validation_not_in_invalid', message: 'Must not be in list.' } } },
    });

    err = await rejects(
      pb.collections.create({ name: 'badidx', type: 'base', fields: [{ name: 'a', type: 'text' }], indexes: ['bogus'] }),
      400,
    );
    assert.deepEqual(err.response.data, {
      indexes: {
        0: { code: 'validation_invalid_index_expression', message: 'Invalid CREATE INDEX expression.' },
      },
    });

    // An unknown field type cannot even be decoded.
    err = await rejects(
      pb.collections.create({ name: 'badtype', type: 'base', fields: [{ name: 'a', type: 'nope' }] }),
      400,
    );
    assert.deepEqual(err.response, {
      data: {},
      message: 'Failed to load the submitted data due to invalid formatting.',
      status: 400,
    });

    // Nothing of the above was created.
    for (const n of ['weird', 'badsel', 'badrel', 'badrel2', 'badfield', 'reserved', 'badidx', 'badtype']) {
      await rejects(pb.collections.getOne(n), 404);
    }
  });

  it('deleting a collection referenced by a relation fails with 400', async () => {
    const err = await rejects(pb.collections.delete('people'), 400);
    assert.deepEqual(err.response, {
      data: {},
      message: 'Failed to delete collection probably due to existing reference in articles.',
      status: 400,
    });
    assert.equal((await pb.collections.getOne('people')).name, 'people');

    // Once the referencing collection is gone, the delete succeeds with 204.
    const ok = await pb.collections.delete('articles');
    assert.equal(ok, true);
    assert.equal(pb.lastStatus, 204);
    assert.equal(await pb.collections.delete('people'), true);
    await rejects(pb.collections.getOne('people'), 404);
    await rejects(pb.collection('people').getList(1, 1), 404);
  });

  it('relation deletes: unset, cascade (single and multi), required reference blocks', async () => {
    const ppl = await pb.collections.create({ name: 'persons', type: 'base', fields: [{ name: 'n', type: 'text' }] });
    await pb.collections.create({
      name: 'docs',
      type: 'base',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'owner', type: 'relation', collectionId: ppl.id, maxSelect: 1 },
        { name: 'editors', type: 'relation', collectionId: ppl.id, maxSelect: 5, cascadeDelete: true },
        { name: 'main', type: 'relation', collectionId: ppl.id, maxSelect: 1, cascadeDelete: true },
        { name: 'must', type: 'relation', collectionId: ppl.id, maxSelect: 1, required: true },
      ],
    });
    const p = [];
    for (let i = 0; i < 6; i++) p.push((await pb.collection('persons').create({ n: `p${i}` })).id);
    const d1 = await pb.collection('docs').create({ title: 'd1', owner: p[1], editors: [p[2], p[3]], must: p[0] });
    const d2 = await pb.collection('docs').create({ title: 'd2', editors: [p[3]], must: p[0] });
    const d3 = await pb.collection('docs').create({ title: 'd3', main: p[4], must: p[0] });

    // Non-cascading optional reference: the id is removed from the record.
    assert.equal(await pb.collection('persons').delete(p[1]), true);
    assert.equal((await pb.collection('docs').getOne(d1.id)).owner, '');

    // Cascading multi relation: removed from the list; a record whose list
    // becomes empty is deleted.
    await pb.collection('persons').delete(p[3]);
    assert.deepEqual((await pb.collection('docs').getOne(d1.id)).editors, [p[2]]);
    await rejects(pb.collection('docs').getOne(d2.id), 404);

    // Cascading single relation: the record is deleted.
    await pb.collection('persons').delete(p[4]);
    await rejects(pb.collection('docs').getOne(d3.id), 404);

    // Required non-cascading reference blocks the delete.
    const err = await rejects(pb.collection('persons').delete(p[0]), 400);
    assert.deepEqual(err.response, {
      data: {},
      message: 'Failed to delete record. Make sure that the record is not part of a required relation reference.',
      status: 400,
    });
    assert.equal((await pb.collection('persons').getOne(p[0])).n, 'p0');
  });
});
