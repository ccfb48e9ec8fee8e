import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { client, codes, rejects, setup } from '../lib/helpers.js';

/** A valid RGB PNG of w×h, built by hand (no image library needed). */
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 5) & 255;
      raw[o + 1] = (y * 9) & 255;
      raw[o + 2] = 77;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Width and height from a PNG's IHDR. */
const pngSize = (buf) => [buf.readUInt32BE(16), buf.readUInt32BE(20)];

async function get(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('files', () => {
  let server;
  let pb;
  const image = png(40, 20);

  before(async () => {
    ({ server, pb } = await setup());
    await pb.collections.create({
      name: 'sdk_docs',
      type: 'base',
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: '',
      deleteRule: '',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'files', type: 'file', maxSelect: 3, maxSize: 1000 },
        { name: 'image', type: 'file', maxSelect: 1, mimeTypes: ['image/png'], thumbs: ['10x10', '0x5', '20x0'] },
      ],
    });
    await pb.collections.create({
      name: 'sdk_vault',
      type: 'base',
      createRule: '',
      viewRule: '@request.auth.id != ""',
      fields: [{ name: 'secret', type: 'file', maxSelect: 1, protected: true }],
    });
  });

  after(async () => {
    await server?.stop();
  });

  it('uploads with the SDK and downloads the same bytes', async () => {
    const rec = await pb.collection('sdk_docs').create({
      title: 'hello',
      files: [new File(['first file'], 'First File.txt'), new Blob(['second'])],
      image: new File([image], 'pic.png', { type: 'image/png' }),
    });
    assert.equal(rec.title, 'hello');
    assert.equal(rec.files.length, 2);
    assert.match(rec.files[0], /^first_file_[a-z0-9]{10}\.txt$/);
    assert.match(rec.image, /^pic_[a-z0-9]{10}\.png$/);

    const first = await get(pb.files.getURL(rec, rec.files[0]));
    assert.equal(first.status, 200);
    assert.equal(first.bytes.toString(), 'first file');
    assert.match(first.headers.get('content-type'), /^text\/plain/);

    const img = await get(pb.files.getURL(rec, rec.image));
    assert.equal(img.status, 200);
    assert.deepEqual(img.bytes, image);
    assert.equal(img.headers.get('content-type'), 'image/png');
    assert.match(img.headers.get('content-disposition') ?? '', /^inline/);

    const download = await get(pb.files.getURL(rec, rec.image, { download: true }));
    assert.match(download.headers.get('content-disposition') ?? '', /^attachment/);

    const part = await get(pb.files.getURL(rec, rec.files[0]), { Range: 'bytes=0-4' });
    assert.equal(part.status, 206);
    assert.equal(part.bytes.toString(), 'first');
  });

  it('serves thumbnails of listed sizes', async () => {
    const rec = await pb.collection('sdk_docs').create({ image: new File([image], 'thumbme.png') });
    for (const [thumb, size] of [['10x10', [10, 10]], ['0x5', [10, 5]], ['20x0', [20, 10]]]) {
      const res = await get(pb.files.getURL(rec, rec.image, { thumb }));
      assert.equal(res.status, 200, thumb);
      assert.deepEqual(pngSize(res.bytes), size, thumb);
    }
    // A size that is not listed gets the original.
    const other = await get(pb.files.getURL(rec, rec.image, { thumb: '30x30' }));
    assert.deepEqual(other.bytes, image);
  });

  it('protected files need a file token whose auth passes the view rule', async () => {
    const rec = await pb.collection('sdk_vault').create({ secret: new File(['top secret'], 'secret.txt') });
    const plain = await get(pb.files.getURL(rec, rec.secret));
    assert.equal(plain.status, 404);
    const token = await pb.files.getToken();
    assert.equal(typeof token, 'string');
    const ok = await get(pb.files.getURL(rec, rec.secret, { token }));
    assert.equal(ok.status, 200);
    assert.equal(ok.bytes.toString(), 'top secret');
    const guest = client(server.url);
    await rejects(guest.files.getToken(), 401);
  });

  it('appends, removes and clears with modifiers; removed files are gone', async () => {
    const docs = pb.collection('sdk_docs');
    let rec = await docs.create({ files: [new File(['a'], 'a.txt')] });
    const [a] = rec.files;
    rec = await docs.update(rec.id, { 'files+': new File(['b'], 'b.txt') });
    assert.equal(rec.files.length, 2);
    assert.equal(rec.files[0], a);
    const b = rec.files[1];
    rec = await docs.update(rec.id, { 'files-': [a] });
    assert.deepEqual(rec.files, [b]);
    assert.equal((await get(pb.files.getURL(rec, a))).status, 404);
    rec = await docs.update(rec.id, { files: null });
    assert.deepEqual(rec.files, []);
    assert.equal((await get(pb.files.getURL({ ...rec, files: [b] }, b))).status, 404);
  });

  it('reports file validation errors per field', async () => {
    const docs = pb.collection('sdk_docs');
    let err = await rejects(docs.create({ files: [new File([Buffer.alloc(1001, 120)], 'big.txt')] }), 400);
    assert.deepEqual(codes(err), { files: 'validation_file_size_limit' });
    err = await rejects(docs.create({ image: new File(['not a png'], 'fake.png') }), 400);
    assert.deepEqual(codes(err), { image: 'validation_invalid_mime_type' });
    err = await rejects(
      docs.create({ files: ['1', '2', '3', '4'].map((n) => new File([n], `${n}.txt`)) }),
      400,
    );
    assert.deepEqual(codes(err), { files: 'validation_too_many_files' });
  });

  it('deleting a record removes its files', async () => {
    const rec = await pb.collection('sdk_docs').create({ files: [new File(['bye'], 'bye.txt')] });
    const url = pb.files.getURL(rec, rec.files[0]);
    assert.equal((await get(url)).status, 200);
    await pb.collection('sdk_docs').delete(rec.id);
    assert.equal((await get(url)).status, 404);
  });
});
