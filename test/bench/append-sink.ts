import fs from 'node:fs';
import net from 'node:net';

/**
 * The benchmark's floor: a Node process that only appends what it receives over loopback to
 * a file. Usage: node append-sink.js FILE EXPECTED_BYTES; prints its port, answers the sender
 * with one byte once EXPECTED_BYTES are written, and exits when the sender closes, so that
 * the bench can read its CPU time from /proc in between.
 */
const [file, expectedArg] = process.argv.slice(2);
const expected = Number(expectedArg);
const fd = fs.openSync(file, 'a');
let received = 0;
const server = net.createServer((socket) => {
  socket.on('data', (data: Buffer) => {
    fs.writeSync(fd, data);
    received += data.length;
    if (received >= expected) {
      socket.write(Buffer.from([1]));
      fs.closeSync(fd);
      server.close();
    }
  });
  socket.on('close', () => process.exit(0));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
});
