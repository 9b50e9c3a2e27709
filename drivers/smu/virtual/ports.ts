/**
 * The real ports a virtual instrument (or the virtual Prologix controller) serves: TCP clients and one
 * pseudo-terminal made by socat, opened and closed together. The owner frames and answers the bytes.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import tty from 'node:tty';
import { openPtyPair, type PtyPair } from '../../transport/pty.ts';

/** The device end of the pty: raw tty streams. */
export interface PtyEnd {
  input: tty.ReadStream;
  output: tty.WriteStream;
}

export class ServedPorts {
  private tcp: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  private pty: PtyPair | null = null;
  private ttyStreams: PtyEnd | null = null;

  /**
   * Listens on TCP; `onClient` sets up each connection (no Nagle delay, errors ignored: a client that
   * vanishes just closes). Resolves with the bound port.
   */
  listenTcp(port: number, hostName: string, onClient: (socket: net.Socket) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        socket.setNoDelay(true);
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => this.sockets.delete(socket));
        onClient(socket);
      });
      server.once('error', reject);
      server.listen(port, hostName, () => {
        this.tcp = server;
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /**
   * A pty pair whose client end is linked at `linkPath`; the device end is read and written through
   * libuv's tty handle (epoll, no thread-pool hop per read/write as node-serialport has), so the virtual
   * side adds as little latency as possible. socat already put the pty in raw mode; a baud rate is
   * modelled by the owner, not set.
   */
  async attachPty(linkPath: string, name: string): Promise<PtyEnd> {
    const devicePath = path.join(os.tmpdir(), `spikeloop-${name}-${process.pid}-${Date.now().toString(36)}-dev`);
    this.pty = await openPtyPair(linkPath, devicePath);
    const fd = fs.openSync(devicePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    const input = new tty.ReadStream(fd);
    const output = new tty.WriteStream(fd);
    input.setRawMode(true);
    this.ttyStreams = { input, output };
    return this.ttyStreams;
  }

  /** TCP port actually bound (when serving TCP). */
  get tcpPort(): number | undefined {
    return (this.tcp?.address() as net.AddressInfo | null)?.port;
  }

  /** Makes the pty vanish (socat ends), as if the cable were pulled. */
  async dropPty(): Promise<void> {
    await this.pty?.close();
  }

  /** Closes every TCP connection, as a LAN drop would. */
  dropTcpClients(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropTcpClients();
    if (this.tcp) await new Promise<void>((r) => this.tcp!.close(() => r()));
    if (this.ttyStreams) {
      this.ttyStreams.input.destroy();
      this.ttyStreams.output.destroy();
      this.ttyStreams = null;
    }
    if (this.pty) await this.pty.close();
  }
}
