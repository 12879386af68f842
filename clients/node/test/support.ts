/** Starts a real `bekal serve` (mutual TLS with `bekal certs dev` certificates) for the tests and the bench. */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { BekalClient, connect, ConnectOptions } from "../src";

export const ROOT = path.resolve(__dirname, "..", "..", "..", "..");
const BEKAL = process.env.BEKAL_BIN ?? path.join(ROOT, ".venv", "bin", "bekal");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export class TestServer {
  private constructor(readonly address: string, readonly certs: string, private readonly proc: ChildProcess,
                      readonly dir: string) {}

  /** A server on the repository's rules/ with a fresh database, ready (health SERVING) when this resolves. */
  static async start(): Promise<TestServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bekal-node-"));
    const certs = path.join(dir, "certs");
    execFileSync(BEKAL, ["certs", "dev", certs], { stdio: "ignore" });
    const address = `127.0.0.1:${await freePort()}`;
    const proc = spawn(BEKAL, ["serve", "--config", path.join(certs, "serve.toml"), "--listen", address,
      "--rules", path.join(ROOT, "rules"), "--db", path.join(dir, "bekal.db"), "--reload-interval", "0"],
    { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    proc.stderr?.on("data", (b: Buffer) => { log += b.toString(); });
    const server = new TestServer(address, certs, proc, dir);
    const probe = server.as("bnnk-banjarbaru", { retries: 0, deadlineMs: 1000 });
    const until = Date.now() + 60_000;
    try {
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`bekal serve exited ${proc.exitCode}:\n${log}`);
        try {
          if (await probe.health() === "SERVING") return server;
        } catch { /* not listening yet */ }
        if (Date.now() > until) throw new Error(`bekal serve did not get ready:\n${log}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      probe.close();
    }
  }

  /** A client with the development certificate of `agency` (bnnk-banjarbaru, blk-kalsel, auditor, ...). */
  as(agency: string, options: ConnectOptions = {}): BekalClient {
    const read = (name: string) => fs.readFileSync(path.join(this.certs, name));
    return connect(this.address, { ca: read("ca.pem"), cert: read(`${agency}.pem`), key: read(`${agency}.key`),
      serverName: "localhost", ...options });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once("exit", r));
      this.proc.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
