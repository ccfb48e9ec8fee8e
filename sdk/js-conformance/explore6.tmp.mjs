import { setup } from './lib/helpers.js';
const { server, pb } = await setup();
const show = async (label, fn) => { try { console.log(label, JSON.stringify(await fn())); } catch (e) { console.log(label, 'ERR', e.status, JSON.stringify(e.response)); } };
try {
  await show('list', () => pb.collection('nope').getList(1, 1));
  await show('getOne', () => pb.collection('nope').getOne('zzzzzzzzzzzzzzz'));
  await show('create', () => pb.collection('nope').create({}));
  await show('update', () => pb.collection('nope').update('zzzzzzzzzzzzzzz', {}));
  await show('delete', () => pb.collection('nope').delete('zzzzzzzzzzzzzzz'));
} finally { await server.stop(); }
