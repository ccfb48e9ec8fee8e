import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { codes, collectionId, DATETIME_RE, ID_RE, rejects, rid, setup } from '../lib/helpers.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('records', () => {
  let server;
  let pb;
  let people;
  let person;
  let person2;
  const ITEMS_ID = collectionId('base', 'items');

  before(async () => {
    ({ server, pb } = await setup());
    people = await pb.collections.create({ name: 'people', type: 'base', fields: [{ name: 'name', type: 'text' }] });
    await pb.collections.create({
      name: 'items',
      type: 'base',
      fields: [
        { name: 'title', type: 'text', min: 3, max: 20, pattern: '^[A-Za-z0-9 ]+$' },
        { name: 'views', type: 'number', min: 0, max: 1000, onlyInt: true },
        { name: 'score', type: 'number' },
        { name: 'published', type: 'bool' },
        { name: 'contact', type: 'email' },
        { name: 'site', type: 'url' },
        { name: 'content', type: 'editor' },
        { name: 'due', type: 'date' },
        { name: 'status', type: 'select', values: ['draft', 'live', 'archived'], maxSelect: 1 },
        { name: 'tags', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3 },
        { name: 'meta', type: 'json' },
        { name: 'owner', type: 'relation', collectionId: people.id, maxSelect: 1 },
        { name: 'helpers', type: 'relation', collectionId: people.id, maxSelect: 3 },
        { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
        { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
      ],
      indexes: ['CREATE UNIQUE INDEX idx_items_title ON items (title)'],
    });
    await pb.collections.create({
      name: 'strict',
      type: 'base',
      fields: [
        { name: 'rtext', type: 'text', required: true },
        { name: 'rnum', type: 'number', required: true },
        { name: 'rbool', type: 'bool', required: true },
        { name: 'remail', type: 'email', required: true },
        { name: 'rurl', type: 'url', required: true },
        { name: 'reditor', type: 'editor', required: true },
        { name: 'rdate', type: 'date', required: true },
        { name: 'rsel', type: 'select', values: ['a', 'b'], maxSelect: 1, required: true },
        { name: 'rmsel', type: 'select', values: ['a', 'b'], maxSelect: 2, required: true },
        { name: 'rjson', type: 'json', required: true },
        { name: 'rrel', type: 'relation', collectionId: people.id, maxSelect: 1, required: true },
        { name: 'rmrel', type: 'relation', collectionId: people.id, maxSelect: 3, required: true },
      ],
    });
    person = await pb.collection('people').create({ id: rid('person', 1), name: 'P1' });
    person2 = await pb.collection('people').create({ id: rid('person', 2), name: 'P2' });
  });
  after(async () => {
    await server?.stop();
  });

  it('create returns 200 with system fields and zero values for every type', async () => {
    const r = await pb.collection('items').create({ title: 'Zero' });
    assert.equal(pb.lastStatus, 200);
    assert.match(r.id, ID_RE);
    assert.match(r.created, DATETIME_RE);
    assert.equal(r.updated, r.created);
    assert.deepEqual(r, {
      collectionId: ITEMS_ID,
      collectionName: 'items',
      id: r.id,
      title: 'Zero',
      views: 0,
      score: 0,
      published: false,
      contact: '',
      site: '',
      content: '',
      due: '',
      status: '',
      tags: [],
      meta: null,
      owner: '',
      helpers: [],
      created: r.created,
      updated: r.updated,
    });
    // created is "now" (within a minute of the local clock).
    const created = Date.parse(r.created.replace(' ', 'T'));
    assert.ok(Math.abs(created - Date.now()) < 60_000, `created ${r.created} is now`);

    const again = await pb.collection('items').getOne(r.id);
    assert.equal(pb.lastStatus, 200);
    assert.deepEqual(again, r);
  });

  it('a collection without autodate fields has no created/updated', async () => {
    const r = await pb.collection('people').create({ name: 'bare' });
    assert.deepEqual(r, { collectionId: people.id, collectionName: 'people', id: r.id, name: 'bare' });
  });

  it('stores and returns values of every type', async () => {
    const r = await pb.collection('items').create({
      title: 'Full',
      views: 42,
      score: -1.25,
      published: true,
      contact: 'Someone@Example.com',
      site: 'https://example.com/a?b=c',
      content: '<p>Hello <b>world</b></p>',
      due: '2024-01-02 03:04:05.678Z',
      status: 'live',
      tags: ['c', 'a'],
      meta: { k: [1, 'two', null, { n: true }] },
      owner: person.id,
      helpers: [person2.id, person.id],
    });
    assert.deepEqual(r, {
      collectionId: ITEMS_ID,
      collectionName: 'items',
      id: r.id,
      title: 'Full',
      views: 42,
      score: -1.25,
      published: true,
      contact: 'Someone@Example.com',
      site: 'https://example.com/a?b=c',
      content: '<p>Hello <b>world</b></p>',
      due: '2024-01-02 03:04:05.678Z',
      status: 'live',
      tags: ['c', 'a'],
      meta: { k: [1, 'two', null, { n: true }] },
      owner: person.id,
      helpers: [person2.id, person.id],
      created: r.created,
      updated: r.updated,
    });
  });

  it('normalizes dates to "YYYY-MM-DD HH:MM:SS.sssZ"', async () => {
    const cases = [
      ['2024-01-02', '2024-01-02 00:00:00.000Z'],
      ['2024-01-02 03:04:05', '2024-01-02 03:04:05.000Z'],
      ['2024-01-02T03:04:05Z', '2024-01-02 03:04:05.000Z'],
      ['2024-01-02T03:04:05.123456Z', '2024-01-02 03:04:05.123Z'],
      ['2024-01-02 03:04:05.1Z', '2024-01-02 03:04:05.100Z'],
      ['not a date', ''],
      ['', ''],
    ];
    for (const [i, [input, expected]] of cases.entries()) {
      const r = await pb.collection('items').create({ title: `Date ${i}`, due: input });
      assert.equal(r.due, expected, `due ${JSON.stringify(input)}`);
    }
  });

  it('coerces loosely typed input like PocketBase', async () => {
    const r = await pb.collection('items').create({
      title: 123, // -> "123"
      views: '7',
      score: '12.5',
      published: 'true',
      tags: 'b', // single string into a multi select
      status: ['draft', 'live'], // array into a single select: the last wins
      helpers: person.id, // single id into a multi relation
      meta: 'just a string',
    });
    assert.equal(r.title, '123');
    assert.equal(r.views, 7);
    assert.equal(r.score, 12.5);
    assert.equal(r.published, true);
    assert.deepEqual(r.tags, ['b']);
    assert.equal(r.status, 'live');
    assert.deepEqual(r.helpers, [person.id]);
    assert.equal(r.meta, 'just a string');

    // Duplicates in multi-value fields are dropped, first occurrence order kept.
    const d = await pb.collection('items').create({
      title: 'Dups',
      tags: ['b', 'a', 'b'],
      helpers: [person2.id, person.id, person2.id],
      score: 'abc', // unparsable number -> 0
      published: 'yes', // unparsable bool -> false
    });
    assert.deepEqual(d.tags, ['b', 'a']);
    assert.deepEqual(d.helpers, [person2.id, person.id]);
    assert.equal(d.score, 0);
    assert.equal(d.published, false);
  });

  it('ignores unknown keys, system keys and client-supplied autodate values', async () => {
    const r = await pb.collection('items').create({
      title: 'Ignored',
      unknown: 1,
      collectionName: 'zzz',
      collectionId: 'zzz',
      expand: { a: 1 },
      created: '2001-01-01 00:00:00.000Z',
      updated: '2001-01-01 00:00:00.000Z',
    });
    assert.equal(r.collectionName, 'items');
    assert.equal(r.collectionId, ITEMS_ID);
    assert.equal('unknown' in r, false);
    assert.equal('expand' in r, false);
    assert.notEqual(r.created, '2001-01-01 00:00:00.000Z');
    assert.notEqual(r.updated, '2001-01-01 00:00:00.000Z');
  });

  it('accepts a client-supplied 15-char id and rejects invalid or duplicate ids', async () => {
    const id = 'abcdefghij12345';
    const r = await pb.collection('items').create({ id, title: 'Own id' });
    assert.equal(r.id, id);
    assert.equal((await pb.collection('items').getOne(id)).title, 'Own id');

    let err = await rejects(pb.collection('items').create({ id: 'abc', title: 'Short id' }), 400);
    assert.deepEqual(err.response, {
      data: {
        id: {
          code: 'validation_min_text_constraint',
          message: 'Must be at least 15 character(s).',
          params: { min: 15 },
        },
      },
      message: 'Failed to create record.',
      status: 400,
    });

    err = await rejects(pb.collection('items').create({ id: 'abcdefghij123456', title: 'Long id' }), 400);
    assert.deepEqual(err.response.data, {
      id: {
        code: 'validation_max_text_constraint',
        message: 'Must be no more than 15 character(s).',
        params: { max: 15 },
      },
    });

    err = await rejects(pb.collection('items').create({ id: 'ABCDEFGHIJ12345', title: 'Upper id' }), 400);
    assert.deepEqual(err.response.data, {
      id: { code: 'validation_invalid_format', message: 'Invalid value format.' },
    });

    err = await rejects(pb.collection('items').create({ id: 'abcdefghij-2345', title: 'Dash id' }), 400);
    assert.deepEqual(codes(err), { id: 'validation_invalid_format' });

    err = await rejects(pb.collection('items').create({ id, title: 'Dup id' }), 400);
    assert.deepEqual(err.response.data, { id: { code: 'validation_not_unique', message: 'Value must be unique.' } });
  });

  it('reports all validation errors at once, with exact codes, messages and params', async () => {
    const err = await rejects(
      pb.collection('items').create({
        title: 'x!',
        views: 1.5,
        contact: 'nope',
        status: 'zzz',
        tags: ['a', 'b', 'c', 'd'],
        owner: 'missing00000000',
      }),
      400,
    );
    assert.equal(err.message, 'Failed to create record.');
    assert.deepEqual(err.response, {
      data: {
        contact: { code: 'validation_is_email', message: 'Must be a valid email address.' },
        owner: {
          code: 'validation_missing_rel_records',
          message: 'Failed to find all relation records with the provided ids.',
        },
        status: { code: 'validation_invalid_value', message: 'Invalid value zzz.', params: { value: 'zzz' } },
        tags: { code: 'validation_too_many_values', message: 'Select no more than 3.', params: { maxSelect: 3 } },
        title: {
          code: 'validation_min_text_constraint',
          message: 'Must be at least 3 character(s).',
          params: { min: 3 },
        },
        views: { code: 'validation_only_int_constraint', message: 'Decimal numbers are not allowed.' },
      },
      message: 'Failed to create record.',
      status: 400,
    });
  });

  it('text max, pattern; number min/max; url', async () => {
    let err = await rejects(pb.collection('items').create({ title: 'this title is way too long' }), 400);
    assert.deepEqual(err.response.data, {
      title: {
        code: 'validation_max_text_constraint',
        message: 'Must be no more than 20 character(s).',
        params: { max: 20 },
      },
    });

    err = await rejects(pb.collection('items').create({ title: 'bad!title' }), 400);
    assert.deepEqual(err.response.data, {
      title: { code: 'validation_invalid_format', message: 'Invalid value format.' },
    });

    err = await rejects(pb.collection('items').create({ title: 'Low', views: -1 }), 400);
    assert.deepEqual(err.response.data, {
      views: { code: 'validation_min_number_constraint', message: 'Must be greater or equal than 0.', params: { min: 0 } },
    });

    err = await rejects(pb.collection('items').create({ title: 'High', views: 1001 }), 400);
    assert.deepEqual(err.response.data, {
      views: { code: 'validation_max_number_constraint', message: 'Must be less or equal than 1000.', params: { max: 1000 } },
    });

    err = await rejects(pb.collection('items').create({ title: 'Url', site: 'not a url' }), 400);
    assert.deepEqual(err.response.data, { site: { code: 'validation_invalid_url', message: 'Must be a valid url.' } });

    // Boundary values are fine.
    const ok = await pb.collection('items').create({ title: 'abc', views: 1000 });
    assert.equal(ok.views, 1000);
    const ok2 = await pb.collection('items').create({ title: 'abcdefghijklmnopqrst', views: 0 });
    assert.equal(ok2.title.length, 20);
  });

  it('required: every type reports validation_required, zero values count as blank', async () => {
    const blank = { code: 'validation_required', message: 'Cannot be blank.' };
    const err = await rejects(pb.collection('strict').create({}), 400);
    assert.deepEqual(err.response, {
      data: {
        rbool: blank,
        rdate: blank,
        reditor: blank,
        remail: blank,
        rjson: blank,
        rmrel: blank,
        rmsel: blank,
        rnum: blank,
        rrel: blank,
        rsel: blank,
        rtext: blank,
        rurl: blank,
      },
      message: 'Failed to create record.',
      status: 400,
    });

    const valid = {
      rtext: 'x',
      rnum: 1,
      rbool: true,
      remail: 'a@b.co',
      rurl: 'https://x.y',
      reditor: '<p>x</p>',
      rdate: '2024-05-06 07:08:09.123Z',
      rsel: 'a',
      rmsel: ['a', 'b'],
      rjson: { k: 1 },
      rrel: person.id,
      rmrel: [person.id],
    };
    const r = await pb.collection('strict').create(valid);
    assert.deepEqual(r, { ...valid, id: r.id, collectionId: collectionId('base', 'strict'), collectionName: 'strict' });

    const zeros = { rnum: 0, rbool: false, rjson: [], rmsel: [], rmrel: [] };
    const err2 = await rejects(pb.collection('strict').create({ ...valid, ...zeros }), 400);
    assert.deepEqual(codes(err2), {
      rbool: 'validation_required',
      rjson: 'validation_required',
      rmrel: 'validation_required',
      rmsel: 'validation_required',
      rnum: 'validation_required',
    });
  });

  it('update: PATCH returns the record, bumps `updated` only', async () => {
    const r = await pb.collection('items').create({ title: 'Before', views: 1 });
    await sleep(10);
    const u = await pb.collection('items').update(r.id, { title: 'After', published: true });
    assert.equal(pb.lastStatus, 200);
    assert.equal(u.title, 'After');
    assert.equal(u.views, 1);
    assert.equal(u.published, true);
    assert.equal(u.created, r.created);
    assert.match(u.updated, DATETIME_RE);
    assert.ok(u.updated > r.updated, `${u.updated} > ${r.updated}`);
    assert.deepEqual(await pb.collection('items').getOne(r.id), u);

    const err = await rejects(pb.collection('items').update(r.id, { id: 'zzzzzzzzzzzzzzz' }), 400);
    assert.deepEqual(err.response, {
      data: { id: { code: 'validation_pk_change', message: 'The record primary key cannot be changed.' } },
      message: 'Failed to update record.',
      status: 400,
    });

    const err2 = await rejects(pb.collection('items').update(r.id, { views: 5000 }), 400);
    assert.equal(err2.response.message, 'Failed to update record.');
    assert.deepEqual(codes(err2), { views: 'validation_max_number_constraint' });
  });

  it('update modifiers: views+ views- tags+ +tags tags- and relation helpers+/-', async () => {
    const r = await pb.collection('items').create({ title: 'Mods', views: 10, tags: ['b'] });
    let u = await pb.collection('items').update(r.id, { 'views+': 5 });
    assert.equal(u.views, 15);
    u = await pb.collection('items').update(r.id, { 'views-': 3 });
    assert.equal(u.views, 12);
    u = await pb.collection('items').update(r.id, { 'tags+': 'c' });
    assert.deepEqual(u.tags, ['b', 'c']);
    u = await pb.collection('items').update(r.id, { '+tags': 'a' });
    assert.deepEqual(u.tags, ['a', 'b', 'c']);
    u = await pb.collection('items').update(r.id, { 'tags-': ['b', 'c'] });
    assert.deepEqual(u.tags, ['a']);
    u = await pb.collection('items').update(r.id, { 'tags+': ['d', 'a'] });
    assert.deepEqual(u.tags, ['a', 'd'], 'appending an existing value does not duplicate it');

    u = await pb.collection('items').update(r.id, { 'helpers+': [person.id, person2.id] });
    assert.deepEqual(u.helpers, [person.id, person2.id]);
    u = await pb.collection('items').update(r.id, { 'helpers-': person.id });
    assert.deepEqual(u.helpers, [person2.id]);

    // Modifiers that push a value out of bounds are validated like plain values.
    const err = await rejects(pb.collection('items').update(r.id, { 'views-': 100 }), 400);
    assert.deepEqual(codes(err), { views: 'validation_min_number_constraint' });
    assert.equal((await pb.collection('items').getOne(r.id)).views, 12);
  });

  it('delete returns 204 (SDK: true); missing records are 404', async () => {
    const r = await pb.collection('items').create({ title: 'Doomed' });
    const ok = await pb.collection('items').delete(r.id);
    assert.equal(ok, true);
    assert.equal(pb.lastStatus, 204);

    const notFound = { data: {}, message: "The requested resource wasn't found.", status: 404 };
    let err = await rejects(pb.collection('items').getOne(r.id), 404);
    assert.deepEqual(err.response, notFound);
    err = await rejects(pb.collection('items').delete(r.id), 404);
    assert.deepEqual(err.response, notFound);
    err = await rejects(pb.collection('items').update(r.id, { title: 'Zombie' }), 404);
    assert.deepEqual(err.response, notFound);
    err = await rejects(pb.collection('items').getOne('zzzzzzzzzzzzzzz'), 404);
    assert.deepEqual(err.response, notFound);
    // Malformed ids are simply not found.
    err = await rejects(pb.collection('items').getOne('a b'), 404);
    assert.deepEqual(err.response, notFound);
  });

  it('records of an unknown collection are 404 with a "collection context" message', async () => {
    // Read/delete and create/update use two different messages in PocketBase.
    const missing = { data: {}, message: 'Missing collection context.', status: 404 };
    const invalid = { data: {}, message: 'Missing or invalid collection context.', status: 404 };
    const none = pb.collection('nope');
    assert.deepEqual((await rejects(none.getList(1, 1), 404)).response, missing);
    assert.deepEqual((await rejects(none.getOne('zzzzzzzzzzzzzzz'), 404)).response, missing);
    assert.deepEqual((await rejects(none.delete('zzzzzzzzzzzzzzz'), 404)).response, missing);
    assert.deepEqual((await rejects(none.create({}), 404)).response, invalid);
    assert.deepEqual((await rejects(none.update('zzzzzzzzzzzzzzz', {}), 404)).response, invalid);
  });

  it('collections can be addressed by id as well as by name', async () => {
    const r = await pb.collection(ITEMS_ID).create({ title: 'By id' });
    assert.equal(r.collectionName, 'items');
    assert.equal((await pb.collection('items').getOne(r.id)).title, 'By id');
  });
});
