// A small relational data set for the list/filter/expand tests.
//
//   authors  <- tags.owner
//   authors  <- posts.author (single)
//   tags     <- posts.tags   (multi)
//   posts    <- comments.post (single, cascadeDelete)
//
// Every record has a client-supplied id so tests can assert exact results.

import { rid } from './helpers.js';

export const A = { alice: rid('author', 1), bob: rid('author', 2), carol: rid('author', 3) };
export const T = { red: rid('tag', 1), green: rid('tag', 2), blue: rid('tag', 3) };
export const P = {
  alpha: rid('post', 1),
  beta: rid('post', 2),
  gamma: rid('post', 3),
  delta: rid('post', 4),
  quoted: rid('post', 5),
};
export const C = { c1: rid('comment', 1), c2: rid('comment', 2), c3: rid('comment', 3), c4: rid('comment', 4) };

export const QUOTED_TITLE = `it's "quoted"`;

export const POSTS = [
  {
    id: P.alpha,
    title: 'Alpha',
    views: 10,
    published: true,
    author: A.alice,
    tags: [T.red, T.green],
    categories: ['news', 'tech'],
    body: '<p>Hello <b>world</b>, this is a long body text.</p>',
    due: '2020-01-01 10:00:00.000Z',
  },
  {
    id: P.beta,
    title: 'Beta',
    views: 20,
    published: false,
    author: A.bob,
    tags: [T.green],
    categories: ['tech'],
    body: '<p>Short</p>',
    due: '2020-06-01 00:00:00.000Z',
  },
  {
    id: P.gamma,
    title: 'Gamma',
    views: 30,
    published: true,
    author: A.alice,
    tags: [],
    categories: [],
    body: '',
    due: '',
  },
  {
    id: P.delta,
    title: 'Delta',
    views: 20,
    published: true,
    author: A.carol,
    tags: [T.blue, T.red, T.green],
    categories: ['sport', 'news'],
    body: 'plain text body',
    due: '2999-01-01 00:00:00.000Z',
  },
  {
    id: P.quoted,
    title: QUOTED_TITLE,
    views: 0,
    published: false,
    author: '',
    tags: [T.blue],
    categories: ['news'],
    body: '',
    due: '',
  },
];

/** Creates the collections and records; returns the created collection models. */
export async function seed(pb) {
  const authors = await pb.collections.create({
    name: 'authors',
    type: 'base',
    fields: [
      { name: 'name', type: 'text', required: true },
      { name: 'age', type: 'number' },
    ],
  });
  const tags = await pb.collections.create({
    name: 'tags',
    type: 'base',
    fields: [
      { name: 'label', type: 'text' },
      { name: 'owner', type: 'relation', collectionId: authors.id, maxSelect: 1 },
    ],
  });
  const posts = await pb.collections.create({
    name: 'posts',
    type: 'base',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'views', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
      { name: 'tags', type: 'relation', collectionId: tags.id, maxSelect: 10 },
      { name: 'categories', type: 'select', values: ['news', 'tech', 'sport'], maxSelect: 3 },
      { name: 'body', type: 'editor' },
      { name: 'due', type: 'date' },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  const comments = await pb.collections.create({
    name: 'comments',
    type: 'base',
    fields: [
      { name: 'text', type: 'text' },
      { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1, cascadeDelete: true },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
    ],
  });

  await pb.collection('authors').create({ id: A.alice, name: 'Alice', age: 30 });
  await pb.collection('authors').create({ id: A.bob, name: 'Bob', age: 25 });
  await pb.collection('authors').create({ id: A.carol, name: "Carol O'Neil", age: 40 });

  await pb.collection('tags').create({ id: T.red, label: 'red', owner: A.alice });
  await pb.collection('tags').create({ id: T.green, label: 'green', owner: A.bob });
  await pb.collection('tags').create({ id: T.blue, label: 'blue', owner: A.bob });

  for (const p of POSTS) {
    await pb.collection('posts').create(p);
  }

  await pb.collection('comments').create({ id: C.c1, post: P.alpha, text: 'great post' });
  await pb.collection('comments').create({ id: C.c2, post: P.alpha, text: 'Needs work' });
  await pb.collection('comments').create({ id: C.c3, post: P.beta, text: 'meh' });
  await pb.collection('comments').create({ id: C.c4, post: P.delta, text: 'great stuff' });

  return { authors, tags, posts, comments };
}
