import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectionId, setup } from '../lib/helpers.js';
import { A, C, P, POSTS, QUOTED_TITLE, seed, T } from '../lib/fixtures.js';

const AUTHORS = collectionId('base', 'authors');
const TAGS = collectionId('base', 'tags');
const COMMENTS = collectionId('base', 'comments');

const author = (id, name, age) => ({ collectionId: AUTHORS, collectionName: 'authors', id, name, age });
const ALICE = author(A.alice, 'Alice', 30);
const BOB = author(A.bob, 'Bob', 25);
const CAROL = author(A.carol, "Carol O'Neil", 40);
const tag = (id, label, owner) => ({ collectionId: TAGS, collectionName: 'tags', id, label, owner: owner.id });

/** Drops the volatile autodate fields so records can be compared exactly. */
function strip(value) {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'created' || k === 'updated') continue;
      out[k] = strip(v);
    }
    return out;
  }
  return value;
}

describe('expand and fields', () => {
  let server;
  let pb;
  before(async () => {
    ({ server, pb } = await setup());
    await seed(pb);
  });
  after(async () => {
    await server?.stop();
  });

  const posts = () => pb.collection('posts');

  it('expand a single relation', async () => {
    const r = await posts().getOne(P.alpha, { expand: 'author' });
    assert.deepEqual(r.expand, { author: ALICE });
    assert.equal(r.author, A.alice, 'the relation id stays in place');
    const { expand, ...rest } = r;
    assert.deepEqual(strip(rest), {
      ...POSTS[0],
      collectionId: collectionId('base', 'posts'),
      collectionName: 'posts',
    });
  });

  it('expand of an empty relation gives an empty expand object', async () => {
    const r = await posts().getOne(P.quoted, { expand: 'author' });
    assert.deepEqual(r.expand, {});
  });

  it('no expand requested, or an unknown/non-relation expand: no expand key at all', async () => {
    for (const expand of [undefined, 'nope', 'title']) {
      const r = await posts().getOne(P.alpha, expand ? { expand } : {});
      assert.equal('expand' in r, false, `expand=${expand}`);
      assert.equal(r.title, 'Alpha');
    }
  });

  it('expand a multi relation keeps the stored id order', async () => {
    const r = await posts().getOne(P.delta, { expand: 'tags' });
    assert.deepEqual(strip(r.expand), {
      tags: [tag(T.blue, 'blue', BOB), tag(T.red, 'red', ALICE), tag(T.green, 'green', BOB)],
    });
  });

  it('nested expand a.b and several at once', async () => {
    const r = await posts().getOne(P.alpha, { expand: 'author,tags.owner' });
    assert.deepEqual(strip(r.expand), {
      author: ALICE,
      tags: [
        { ...tag(T.red, 'red', ALICE), expand: { owner: ALICE } },
        { ...tag(T.green, 'green', BOB), expand: { owner: BOB } },
      ],
    });
  });

  it('back-relation expand comments_via_post is a list', async () => {
    const r = await posts().getOne(P.alpha, { expand: 'comments_via_post' });
    assert.deepEqual(strip(r.expand), {
      comments_via_post: [
        { collectionId: COMMENTS, collectionName: 'comments', id: C.c1, post: P.alpha, text: 'great post' },
        { collectionId: COMMENTS, collectionName: 'comments', id: C.c2, post: P.alpha, text: 'Needs work' },
      ],
    });
    for (const c of r.expand.comments_via_post) {
      assert.match(c.created, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    const none = await posts().getOne(P.gamma, { expand: 'comments_via_post' });
    assert.deepEqual(none.expand, {});
  });

  it('back-relation expand can continue through the forward relation', async () => {
    const r = await posts().getOne(P.beta, { expand: 'comments_via_post.post.author', fields: 'id,expand' });
    assert.equal(r.expand.comments_via_post.length, 1);
    const c = r.expand.comments_via_post[0];
    assert.equal(c.id, C.c3);
    assert.equal(c.expand.post.id, P.beta);
    assert.deepEqual(c.expand.post.expand, { author: BOB });
  });

  it('expand in lists, per item', async () => {
    const r = await posts().getList(1, 10, {
      sort: 'title',
      expand: 'author,comments_via_post',
      fields: 'title,expand.author.name,expand.comments_via_post.text',
    });
    assert.deepEqual(r.items, [
      { title: 'Alpha', expand: { author: { name: 'Alice' }, comments_via_post: [{ text: 'great post' }, { text: 'Needs work' }] } },
      { title: 'Beta', expand: { author: { name: 'Bob' }, comments_via_post: [{ text: 'meh' }] } },
      { title: 'Delta', expand: { author: { name: "Carol O'Neil" }, comments_via_post: [{ text: 'great stuff' }] } },
      { title: 'Gamma', expand: { author: { name: 'Alice' } } },
      { title: QUOTED_TITLE, expand: {} },
    ]);
  });

  it('fields picks top-level keys', async () => {
    const r = await posts().getOne(P.alpha, { fields: 'id,title' });
    assert.deepEqual(r, { id: P.alpha, title: 'Alpha' });
    const l = await posts().getList(1, 2, { fields: 'id', sort: 'id' });
    assert.deepEqual(l.items, [{ id: P.alpha }, { id: P.beta }]);
    assert.equal(l.totalItems, 5);
    // Unknown names are ignored.
    assert.deepEqual(await posts().getOne(P.alpha, { fields: 'id,nope' }), { id: P.alpha });
  });

  it('fields=* is every field; * plus expand.author.name narrows the expansion', async () => {
    const full = await posts().getOne(P.alpha);
    assert.deepEqual(await posts().getOne(P.alpha, { fields: '*' }), full);

    const r = await posts().getOne(P.alpha, { expand: 'author', fields: '*,expand.author.name' });
    assert.deepEqual(r, { ...full, expand: { author: { name: 'Alice' } } });

    // expand.* in fields without an expand parameter adds nothing.
    assert.deepEqual(await posts().getOne(P.alpha, { fields: 'id,expand.author.name' }), { id: P.alpha });

    const nested = await posts().getOne(P.alpha, { expand: 'tags.owner', fields: 'id,expand.tags.label,expand.tags.expand.owner.name' });
    assert.deepEqual(nested, {
      id: P.alpha,
      expand: {
        tags: [
          { label: 'red', expand: { owner: { name: 'Alice' } } },
          { label: 'green', expand: { owner: { name: 'Bob' } } },
        ],
      },
    });

    const star = await posts().getOne(P.alpha, { expand: 'author', fields: 'title,expand.author.*' });
    assert.deepEqual(star, { title: 'Alpha', expand: { author: ALICE } });
  });

  it(':excerpt(max, withEllipsis) strips HTML and truncates', async () => {
    const cases = [
      [P.alpha, 'body:excerpt(10,true)', 'Hello worl...'],
      [P.alpha, 'body:excerpt(10)', 'Hello worl'],
      [P.alpha, 'body:excerpt(10,false)', 'Hello worl'],
      [P.alpha, 'body:excerpt(200,true)', 'Hello world, this is a long body text.'],
      [P.delta, 'body:excerpt(5,true)', 'plain...'],
      [P.beta, 'body:excerpt(5,true)', 'Short'],
      [P.gamma, 'body:excerpt(5,true)', ''],
    ];
    for (const [id, fields, expected] of cases) {
      assert.deepEqual(await posts().getOne(id, { fields }), { body: expected }, `${id} ${fields}`);
    }
    const mixed = await posts().getOne(P.alpha, { fields: 'id,title:excerpt(3,true),body:excerpt(5)' });
    assert.deepEqual(mixed, { id: P.alpha, title: 'Alp...', body: 'Hello' });
  });
});
