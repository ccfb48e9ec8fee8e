// A small app on the generated client for the fixture schema (sdk/fixture/): sign up,
// sign in, CRUD, a list with filter and expand, full-text search, a realtime create
// event, a file upload and a batch. The TypeScript SDK test compiles it with
// `tsc --strict` and runs it against a live server (BASALT_URL); it prints one JSON
// report on stdout.

import { EventSource } from 'eventsource';
import { Basalt, ClientResponseError } from './gen/client.js';
import type { PostsRecord, RecordEvent } from './gen/client.js';

const url = process.env.BASALT_URL ?? 'http://127.0.0.1:8090';
const pb = new Basalt(url, { EventSource });
const report: Record<string, unknown> = {};

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Sign up and sign in.
const email = `ts-${Date.now()}@example.com`;
const me = await pb.members.create({ email, password: 'password123', passwordConfirm: 'password123', name: 'Ada' });
const auth = await pb.members.authWithPassword(email, 'password123');
check(auth.record.id === me.id && auth.token.length > 0, 'auth-with-password returns the record and a token');
const refreshed = await pb.members.authRefresh();
check(refreshed.record.name === 'Ada', 'auth-refresh');
await pb.members.requestPasswordReset(email);
report.signedIn = auth.record.id;

// A wrong password is a typed error carrying the envelope.
try {
  await new Basalt(url).members.authWithPassword(email, 'wrong-password');
  throw new Error('a wrong password was accepted');
} catch (e) {
  check(e instanceof ClientResponseError && e.status === 400, 'a wrong password is a 400');
  report.wrongPasswordStatus = (e as ClientResponseError).response.status;
}

// Realtime: subscribe before creating.
const events: Array<RecordEvent<PostsRecord>> = [];
const unsubscribe = await pb.posts.subscribe('*', (e) => events.push(e));

// CRUD with every field type, and a file.
const tag = await pb.tags.create({ label: 'rust' });
const cover = new File(['hello file'], 'hello.txt', { type: 'text/plain' });
const post = await pb.posts.create({
  title: 'Typed clients in Rust',
  body: '<p>generated from the schema</p>',
  views: 3,
  published: true,
  contact: 'ada@example.com',
  website: 'https://example.com',
  due: '2030-01-01 10:00:00.000Z',
  status: 'draft',
  labels: ['news', 'tech'],
  meta: { answer: 42, list: [1, 'two'] },
  author: me.id,
  tags: [tag.id],
  cover,
});
check(post.views === 3 && post.status === 'draft' && post.labels.length === 2, 'create returns the typed record');
check(post.cover !== '' && post.cover.endsWith('.txt'), 'the file was stored');
const downloaded = await fetch(pb.fileUrl(post, post.cover));
check((await downloaded.text()) === 'hello file', 'the file is served');
report.cover = post.cover;

const updated = await pb.posts.update(post.id, { views: 10, status: 'published' });
check(updated.views === 10 && updated.status === 'published', 'update');

const one = await pb.posts.getOne(post.id, { expand: 'author,tags' });
check(one.expand?.author?.name === 'Ada', 'expand a single relation');
check(one.expand?.tags?.[0]?.label === 'rust', 'expand a multi relation');

await pb.posts.create({ title: 'Unrelated words', views: 1, author: me.id });
const list = await pb.posts.getList(1, 10, { filter: `views > 5 && author = "${me.id}"`, sort: '-created', expand: 'author' });
check(list.totalItems === 1 && list.items[0]?.id === post.id, 'list with a filter');
check(list.items[0]?.expand?.author?.id === me.id, 'list with expand');
const full = await pb.posts.getFullList({ sort: 'title' });
check(full.length === 2, 'full list');
const first = await pb.posts.getFirst(`title = "Unrelated words"`);
check(first.views === 1, 'getFirst');

// Full-text search (the index commits shortly after the write).
const found = await until('search hits', async () => {
  const r = await pb.posts.list({ search: 'typed clients', perPage: 5 });
  return r.items.length > 0 ? r : undefined;
});
check(found.items[0]?.id === post.id, 'search finds the post');
report.searchHits = found.totalItems;

// The realtime create event.
const created = await until('the realtime create event', async () =>
  events.find((e) => e.action === 'create' && e.record.id === post.id),
);
report.realtimeAction = created.action;
await unsubscribe();

// A batch creates two tags at once.
const batch = pb.batch();
batch.tags.create({ label: 'one' });
batch.tags.create({ label: 'two' });
const results = await batch.send();
check(results.length === 2 && results.every((r) => r.status === 200), 'batch');
report.batch = results.length;

// Delete; a missing record is a 404 ClientResponseError.
await pb.posts.delete(post.id);
try {
  await pb.posts.getOne(post.id);
  throw new Error('a deleted record was found');
} catch (e) {
  check(e instanceof ClientResponseError && e.status === 404, 'deleted');
}
report.deleted = true;
pb.realtime.disconnect();
console.log(JSON.stringify(report));
