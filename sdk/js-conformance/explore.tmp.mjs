import { setup } from '/work/main/sdk/js-conformance/lib/helpers.js';
import { seed } from '/work/main/sdk/js-conformance/lib/fixtures.js';
const { server, pb } = await setup();
try {
  await seed(pb);
  const filters = process.argv.slice(2);
  for (const f of filters) {
    try {
      const r = await pb.collection('posts').getList(1, 50, { filter: f, sort: 'title' });
      console.log(JSON.stringify(f), '=>', r.items.map((x) => x.title).join(' | '), `(${r.totalItems})`);
    } catch (e) { console.log(JSON.stringify(f), '=> ERR', e.status, JSON.stringify(e.response)); }
  }
} finally { await server.stop(); }
