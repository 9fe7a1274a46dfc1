import fs from 'node:fs';
import net from 'node:net';

/**
 * The benchmark's floor: a Node process that only appends what it receives over loopback to
 * a file. Usage: node append-sink.js FILE EXPECTED_BYTES; prints its port, then "done" once
 * EXPECTED_BYTES are written, and answers the sender with one byte.
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
      socket.end(Buffer.from([1]));
      fs.closeSync(fd);
      server.close();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
});
