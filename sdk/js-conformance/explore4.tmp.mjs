import { setup, client } from './lib/helpers.js';
const { server, pb } = await setup();
const show = async (label, fn) => { try { console.log(label, JSON.stringify(await fn())); } catch (e) { console.log(label, 'ERR', e.status, JSON.stringify(e.response)); } };
try {
  const a = await pb.collections.create({ name: 'people', type: 'base', fields: [{ name: 'name', type: 'text' }] });
  const c = await pb.collections.create({ name: 'things', type: 'base', fields: [
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
    { name: 'rrel', type: 'relation', collectionId: a.id, maxSelect: 1, required: true },
    { name: 'rmrel', type: 'relation', collectionId: a.id, maxSelect: 3, required: true },
  ]});
  await show('all required empty', () => pb.collection('things').create({}));
  await show('whitespace text', () => pb.collection('things').create({rtext: '   '}));
  const p = await pb.collection('people').create({name: 'p'});
  await show('all valid', () => pb.collection('things').create({rtext: 'x', rnum: 1, rbool: true, remail: 'a@b.co', rurl: 'https://x.y', reditor: '<p>x</p>', rdate: '2024-05-06 07:08:09.123Z', rsel: 'a', rmsel: ['a','b'], rjson: {k: 1}, rrel: p.id, rmrel: [p.id]}));
  await show('rjson 0 / false / [] / ""', () => pb.collection('things').create({rtext: 'x', rnum: 1, rbool: true, remail: 'a@b.co', rurl: 'https://x.y', reditor: 'x', rdate: '2024-05-06', rsel: 'a', rmsel: ['a'], rjson: [], rrel: p.id, rmrel: [p.id]}));
  await show('rmsel duplicates/unknown', () => pb.collection('things').create({rtext: 'x', rnum: 1, rbool: true, remail: 'a@b.co', rurl: 'https://x.y', reditor: 'x', rdate: '2024-05-06', rsel: 'a', rmsel: ['a','a','b'], rjson: 1, rrel: p.id, rmrel: [p.id, p.id]}));
  await show('rmsel unknown', () => pb.collection('things').create({rtext: 'x', rnum: 1, rbool: true, remail: 'a@b.co', rurl: 'https://x.y', reditor: 'x', rdate: '2024-05-06', rsel: 'a', rmsel: ['a','c'], rjson: 1, rrel: p.id, rmrel: [p.id, 'zzzzzzzzzzzzzzz']}));
  await show('sel array for single', () => pb.collection('things').create({rtext: 'x', rnum: 1, rbool: true, remail: 'a@b.co', rurl: 'https://x.y', reditor: 'x', rdate: '2024-05-06', rsel: ['a','b'], rmsel: ['a'], rjson: 'str', rrel: [p.id, p.id], rmrel: [p.id]}));
  await show('json string', () => pb.collection('things').create({rtext: 'x', rnum: 1, rbool: true, remail: 'a@b.co', rurl: 'https://x.y', reditor: 'x', rdate: '2024-05-06', rsel: 'a', rmsel: 'b', rjson: 'str', rrel: p.id, rmrel: p.id}));
  await show('bad date', () => pb.collection('things').create({rtext: 'x', rnum: 1, rbool: true, remail: 'a@b.co', rurl: 'https://x.y', reditor: 'x', rdate: 'not a date', rsel: 'a', rmsel: 'b', rjson: 'str', rrel: p.id, rmrel: p.id}));
  await show('bad number string', () => pb.collection('things').create({rtext: 'x', rnum: 'abc', rbool: 'yes', remail: 'a@b.co', rurl: 'ftp://x.y', reditor: 'x', rdate: '2024-05-06', rsel: 'a', rmsel: 'b', rjson: 'str', rrel: p.id, rmrel: p.id}));
  await show('url no scheme', () => pb.collection('things').create({rtext: 'x', rnum: 1, rbool: true, remail: 'A@B.CO', rurl: 'example.com', reditor: 'x', rdate: '2024-05-06', rsel: 'a', rmsel: 'b', rjson: 'str', rrel: p.id, rmrel: p.id}));
  await show('text number', () => pb.collection('people').create({name: 123}));
  await show('text with spaces', () => pb.collection('people').create({name: '  padded  '}));
  await show('update missing required', () => pb.collection('people').update(p.id, {name: ''}));
} finally { await server.stop(); }
