import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rejects, setup } from '../lib/helpers.js';
import { A, P, QUOTED_TITLE, seed, T } from '../lib/fixtures.js';

const Q = QUOTED_TITLE;
const ALL = ['Alpha', 'Beta', 'Delta', 'Gamma', Q]; // sorted by title (binary order)

// Filters (sorted by title) and the exact titles PocketBase 0.40.6 returns.
// See README.md for the less obvious semantics (multi-valued fields, :each, null).
const FILTERS = [
  // comparison operators
  ['views = 20', ['Beta', 'Delta']],
  ['views != 20', ['Alpha', 'Gamma', Q]],
  ['views > 10', ['Beta', 'Delta', 'Gamma']],
  ['views >= 20', ['Beta', 'Delta', 'Gamma']],
  ['views < 20', ['Alpha', Q]],
  ['views <= 10', ['Alpha', Q]],
  ['views = 20.0', ['Beta', 'Delta']],
  ["views > '15'", ['Beta', 'Delta', 'Gamma']],
  ["title = 'Alpha'", ['Alpha']],
  ["title='Alpha'", ['Alpha']],
  ["title > 'C'", ['Delta', 'Gamma', Q]],
  ['published = true', ['Alpha', 'Delta', 'Gamma']],
  ['published = false', ['Beta', Q]],
  ['published = 1', ['Alpha', 'Delta', 'Gamma']],
  ["published = 'true'", []],
  ["id = 'post00000000001'", ['Alpha']],
  // like / not like: case-insensitive "contains" unless the pattern has %
  ["title ~ 'ta'", ['Beta', 'Delta']],
  ["title ~ 'ALP'", ['Alpha']],
  ["title !~ 'a'", [Q]],
  ["title ~ 'a%'", ['Alpha']],
  ["title ~ '%ta'", ['Beta', 'Delta']],
  ["title !~ 'Alpha%'", ['Beta', 'Delta', 'Gamma', Q]],
  ["title ~ 'a_p'", []], // `_` is literal, not a wildcard
  ["body ~ 'world'", ['Alpha']],
  // any-of operators on single values behave like the plain ones
  ["title ?= 'Alpha'", ['Alpha']],
  ["title ?~ 'lph'", ['Alpha']],
  ['views ?> 20', ['Gamma']],
  // logic and grouping
  ['published = true && views > 10', ['Delta', 'Gamma']],
  ['published = false || views = 30', ['Beta', 'Gamma', Q]],
  ['(views = 10 || views = 30) && published = true', ['Alpha', 'Gamma']],
  ['views = 10 || views = 30 && published = false', ['Alpha']], // && binds tighter than ||
  ["title = 'Alpha' && (views = 1 || (published = true && views = 10))", ['Alpha']],
  ["title = 'Alpha'  ||  title = 'Beta'", ['Alpha', 'Beta']],
  ['views > 5 && views < 25', ['Alpha', 'Beta', 'Delta']],
  // quoting and escapes
  [`title = "it's \\"quoted\\""`, [Q]],
  [`title = 'it\\'s "quoted"'`, [Q]],
  [`title ~ '"'`, [Q]],
  // null / empty
  ['author = null', [Q]],
  ["author = ''", [Q]],
  ['due = null', ['Gamma', Q]],
  ['due != null', ['Alpha', 'Beta', 'Delta']],
  ['views = null', []],
  // single relation paths
  ["author.name = 'Alice'", ['Alpha', 'Gamma']],
  [`author.name = "Carol O'Neil"`, ['Delta']],
  ["author.name ~ 'o'", ['Beta', 'Delta']],
  ['author.age > 26', ['Alpha', 'Delta', 'Gamma']],
  ["author.id = ''", [Q]],
  // multi relation paths: plain operators require ALL items to match, ?-operators ANY
  ["tags.label ?= 'red'", ['Alpha', 'Delta']],
  ["tags.label = 'red'", []],
  ["tags.label != 'red'", ['Beta', 'Gamma', Q]],
  ["tags.label ?!= 'red'", ALL],
  [`tags.id ?= '${T.red}'`, ['Alpha', 'Delta']],
  [`tags.id = '${T.red}'`, []],
  ["tags.owner.name ?= 'Bob'", ['Alpha', 'Beta', 'Delta', Q]],
  ["tags.owner.name = 'Bob'", ['Beta', Q]],
  // a multi-valued field compared directly is compared as its JSON text
  [`tags ~ '${T.red}'`, ['Alpha', 'Delta']],
  [`tags ?= '${T.red}'`, []],
  ["categories ~ 'news'", ['Alpha', 'Delta', Q]],
  ["categories ?= 'news'", []],
  ["categories = 'news'", []],
  [`categories = '["tech"]'`, ['Beta']],
  // modifiers
  ['categories:length = 2', ['Alpha', 'Delta']],
  ['categories:length = 0', ['Gamma']],
  ['tags:length = 0', ['Gamma']],
  ['tags:length >= 2', ['Alpha', 'Delta']],
  ["categories:each ?= 'news'", ['Alpha', 'Delta', Q]],
  ["categories:each = 'news'", [Q]],
  ["categories:each ~ 'e'", ['Alpha', 'Beta', Q]], // an empty list does not match :each
  ["categories:each != 'sport'", ['Alpha', 'Beta', 'Gamma', Q]], // ...except with !=
  ["categories:length > 0 && categories:each != 'sport'", ['Alpha', 'Beta', Q]],
  [`tags:each ?= '${T.red}'`, ['Alpha', 'Delta']],
  [`tags:each = '${T.red}'`, []],
  ["title:lower = 'alpha'", ['Alpha']],
  // back-relations
  ["comments_via_post.text ?~ 'great'", ['Alpha', 'Delta']],
  ["comments_via_post.text ?~ 'GREAT'", ['Alpha', 'Delta']],
  ["comments_via_post.text ~ 'great'", ['Delta']], // all comments must match
  ["comments_via_post.text = 'meh'", ['Beta']],
  ["comments_via_post.id ?= 'comment00000001'", ['Alpha']],
  ["comments_via_post.text:lower ?= 'needs work'", ['Alpha']],
  // date macros and date strings
  ['created <= @now', ALL],
  ['created > @now', []],
  ['created >= @todayStart && created <= @todayEnd', ALL],
  ['due > @now', ['Delta']],
  ['due < @now', ['Alpha', 'Beta', 'Gamma', Q]], // "" (no date) sorts before any date
  ["due >= '2020-06-01'", ['Beta', 'Delta']],
  ["due >= '2020-06-01 00:00:00.000Z'", ['Beta', 'Delta']],
  ["due >= '2020-06-01 00:00:00'", ['Beta', 'Delta']],
  // request macros
  ["@request.auth.id != ''", ALL],
  ["@request.auth.collectionName = '_superusers'", ALL],
];

const BAD_FILTERS = [
  'title ==',
  '(title = "x"',
  'nope = 1',
  "title:upper = 'ALPHA'",
  'comments_via_post:length = 2',
  "title = 'unterminated",
  '&& views = 1',
];

// PocketBase answers every bad filter or sort with this vague message; Basalt says what
// is wrong instead (a deliberate difference), so only the status and data are compared.
function assertBadQuery(err, what) {
  assert.equal(err.response.status, 400, what);
  assert.deepEqual(err.response.data, {}, what);
  assert.equal(typeof err.response.message, 'string', what);
  assert.ok(err.response.message.length > 0, what);
}

describe('lists, filters and sorting', () => {
  let server;
  let pb;
  before(async () => {
    ({ server, pb } = await setup());
    await seed(pb);
  });
  after(async () => {
    await server?.stop();
  });

  const titles = async (opts) => (await pb.collection('posts').getFullList({ sort: 'title', ...opts })).map((r) => r.title);

  for (const [filter, expected] of FILTERS) {
    it(`filter: ${filter}`, async () => {
      const res = await pb.collection('posts').getList(1, 50, { filter, sort: 'title' });
      assert.deepEqual(
        res.items.map((r) => r.title),
        expected,
      );
      assert.equal(res.totalItems, expected.length);
    });
  }

  it('pb.filter() binds strings, numbers, booleans, null and dates', async () => {
    assert.deepEqual(await titles({ filter: pb.filter('title = {:t}', { t: Q }) }), [Q]);
    assert.deepEqual(await titles({ filter: pb.filter('title = {:t}', { t: "x'y" }) }), []);
    assert.deepEqual(
      await titles({
        filter: pb.filter('title = {:t} || views > {:v} || published = {:p}', { t: 'Alpha', v: 25, p: false }),
      }),
      ['Alpha', 'Beta', 'Gamma', Q],
    );
    assert.deepEqual(await titles({ filter: pb.filter('author = {:a}', { a: null }) }), [Q]);
    assert.deepEqual(
      await titles({ filter: pb.filter('due >= {:d}', { d: new Date('2020-03-01T00:00:00Z') }) }),
      ['Beta', 'Delta'],
    );
    assert.deepEqual(await titles({ filter: pb.filter('author.name = {:n}', { n: "Carol O'Neil" }) }), ['Delta']);
    // A record whose title contains a single quote, created and found back via pb.filter.
    await pb.collection('posts').create({ id: 'post00000000099', title: "x'y", views: 0 });
    assert.deepEqual(await titles({ filter: pb.filter('title = {:t}', { t: "x'y" }) }), ["x'y"]);
    await pb.collection('posts').delete('post00000000099');
  });

  it('bad filters are 400 with an empty data object', async () => {
    for (const filter of BAD_FILTERS) {
      const err = await rejects(pb.collection('posts').getList(1, 10, { filter }), 400);
      assertBadQuery(err, filter);
    }
  });

  it('list envelope: page, perPage, totalItems, totalPages', async () => {
    const r = await pb.collection('posts').getList(1, 2, { sort: 'title' });
    assert.equal(pb.lastStatus, 200);
    assert.deepEqual(Object.keys(r).sort(), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
    assert.deepEqual(
      { page: r.page, perPage: r.perPage, totalItems: r.totalItems, totalPages: r.totalPages },
      { page: 1, perPage: 2, totalItems: 5, totalPages: 3 },
    );
    assert.deepEqual(
      r.items.map((x) => x.title),
      ['Alpha', 'Beta'],
    );
    const p2 = await pb.collection('posts').getList(2, 2, { sort: 'title' });
    assert.deepEqual(
      p2.items.map((x) => x.title),
      ['Delta', 'Gamma'],
    );
    const p3 = await pb.collection('posts').getList(3, 2, { sort: 'title' });
    assert.deepEqual(
      p3.items.map((x) => x.title),
      [Q],
    );
    assert.equal(p3.page, 3);
    const p9 = await pb.collection('posts').getList(9, 2, { sort: 'title' });
    assert.deepEqual(p9, { items: [], page: 9, perPage: 2, totalItems: 5, totalPages: 3 });
    // An empty result.
    const none = await pb.collection('posts').getList(1, 10, { filter: 'views > 1000' });
    assert.deepEqual(none, { items: [], page: 1, perPage: 10, totalItems: 0, totalPages: 0 });
  });

  it('defaults: page 1, perPage 30; zero/negative fall back to defaults', async () => {
    for (const [page, perPage] of [
      [0, 0],
      [1, -1],
      [-3, 30],
    ]) {
      const r = await pb.collection('posts').getList(page, perPage, { fields: 'id' });
      assert.deepEqual(
        { page: r.page, perPage: r.perPage, totalItems: r.totalItems, totalPages: r.totalPages },
        { page: 1, perPage: 30, totalItems: 5, totalPages: 1 },
        `page=${page} perPage=${perPage}`,
      );
    }
  });

  it('perPage is capped at 1000', async () => {
    const r = await pb.collection('posts').getList(1, 5000, { fields: 'id' });
    assert.equal(r.perPage, 1000);
    assert.equal(r.totalItems, 5);
    assert.equal(r.totalPages, 1);
    assert.equal(r.items.length, 5);
  });

  it('skipTotal gives totalItems -1 and totalPages -1', async () => {
    const r = await pb.collection('posts').getList(1, 2, { skipTotal: true, sort: 'title', fields: 'title' });
    assert.deepEqual(r, {
      items: [{ title: 'Alpha' }, { title: 'Beta' }],
      page: 1,
      perPage: 2,
      totalItems: -1,
      totalPages: -1,
    });
    const r2 = await pb.collection('posts').getList(3, 2, { skipTotal: 1, sort: 'title', fields: 'title' });
    assert.deepEqual(r2, { items: [{ title: Q }], page: 3, perPage: 2, totalItems: -1, totalPages: -1 });
  });

  it('sort: default is insertion order; multi-field, -desc, +asc, relation paths', async () => {
    assert.deepEqual(
      (await pb.collection('posts').getFullList()).map((r) => r.id),
      [P.alpha, P.beta, P.gamma, P.delta, P.quoted],
    );
    assert.deepEqual(await titles({ sort: '-views,title' }), ['Gamma', 'Beta', 'Delta', 'Alpha', Q]);
    assert.deepEqual(await titles({ sort: '+views,-title' }), [Q, 'Alpha', 'Delta', 'Beta', 'Gamma']);
    assert.deepEqual(await titles({ sort: '-title' }), [Q, 'Gamma', 'Delta', 'Beta', 'Alpha']);
    assert.deepEqual(await titles({ sort: 'published,-views' }), ['Beta', Q, 'Gamma', 'Delta', 'Alpha']);
    assert.deepEqual(await titles({ sort: '-id' }), [Q, 'Delta', 'Gamma', 'Beta', 'Alpha']);
    assert.deepEqual(await titles({ sort: 'due,title' }), ['Gamma', Q, 'Alpha', 'Beta', 'Delta']);
    // empty relation sorts first
    assert.deepEqual(await titles({ sort: 'author.name,title' }), [Q, 'Alpha', 'Gamma', 'Beta', 'Delta']);
    assert.deepEqual(await titles({ sort: '-author.age,title' }), ['Delta', 'Alpha', 'Gamma', 'Beta', Q]);
  });

  it('bad sort is 400', async () => {
    for (const sort of ['nope', '-', 'title,nope', 'author.nope']) {
      const err = await rejects(pb.collection('posts').getList(1, 10, { sort }), 400);
      assertBadQuery(err, sort);
    }
  });

  it('getFullList pages through everything (batch size honoured)', async () => {
    const all = await pb.collection('posts').getFullList({ batch: 2, sort: '-views,title' });
    assert.deepEqual(
      all.map((r) => r.title),
      ['Gamma', 'Beta', 'Delta', 'Alpha', Q],
    );
    const filtered = await pb.collection('posts').getFullList({ batch: 1, filter: 'published = true', sort: 'title' });
    assert.deepEqual(
      filtered.map((r) => r.title),
      ['Alpha', 'Delta', 'Gamma'],
    );
  });

  it('getFirstListItem returns the first match; no match is a 404', async () => {
    const first = await pb.collection('posts').getFirstListItem('views = 20', { sort: '-title' });
    assert.equal(first.title, 'Delta');
    const byRel = await pb.collection('posts').getFirstListItem(`author = '${A.alice}'`, { sort: '-views' });
    assert.equal(byRel.id, P.gamma);

    const err = await rejects(pb.collection('posts').getFirstListItem("title = 'zzz'"), 404);
    assert.equal(err.response.message, "The requested resource wasn't found.");
    assert.deepEqual(err.response.data, {});
  });
});
