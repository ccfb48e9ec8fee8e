// A minimal SMTP server on loopback that accepts every message and keeps it, so the
// dashboard's "send test email" can be checked end to end (no auth, no TLS: the
// client falls back to plain SMTP when STARTTLS is not offered).

import net from 'node:net';

/** @returns {Promise<{port: number, messages: string[], close: () => Promise<void>}>} */
export async function smtpSink() {
  const messages = [];
  const server = net.createServer((socket) => {
    let buffer = '';
    let data = null;
    const say = (line) => socket.write(`${line}\r\n`);
    say('220 sink ESMTP');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let i;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (data !== null) {
          if (line === '.') {
            messages.push(data.join('\n'));
            data = null;
            say('250 queued');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line);
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') say('250 sink');
        else if (verb === 'HELO') say('250 sink');
        else if (verb === 'DATA') { data = []; say('354 go ahead'); }
        else if (verb === 'QUIT') { say('221 bye'); socket.end(); }
        else say('250 ok');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    messages,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
