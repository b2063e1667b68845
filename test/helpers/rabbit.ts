/**
 * A private RabbitMQ node (own node name, port, data dir) that a test may stop and start
 * again — the machine's shared broker is never touched. Runs Debian's rabbitmq-server,
 * which drops to the rabbitmq user, so the data dir is handed to that user.
 */
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const portOpen = (port: number) => new Promise<boolean>((resolve) => {
  const c = connect(port, '127.0.0.1');
  c.once('connect', () => (c.destroy(), resolve(true)));
  c.once('error', () => resolve(false));
});

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export class PrivateRabbit {
  private constructor(readonly dir: string, readonly port: number, private readonly distPort: number, readonly name: string) {}

  static available(): boolean {
    return existsSync('/usr/sbin/rabbitmq-server') && process.getuid?.() === 0;
  }

  static async create(): Promise<PrivateRabbit> {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rabbit-'));
    const port = await freePort();
    const r = new PrivateRabbit(dir, port, await freePort(), `bosuntest${port}@localhost`);
    mkdirSync(join(dir, 'mnesia'));
    mkdirSync(join(dir, 'log'));
    writeFileSync(join(dir, 'plugins'), '[].\n');
    writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\nloopback_users = none\n`);
    chmodSync(dir, 0o755);
    execFileSync('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
    return r;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  private get pidFile(): string {
    return join(this.dir, 'pid');
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const d = this.dir;
    const child = spawn('rabbitmq-server', [], {
      cwd: d,
      detached: true,
      stdio: 'ignore',
      env: {
        ...process.env,
        RABBITMQ_NODENAME: this.name, RABBITMQ_NODE_PORT: String(this.port), RABBITMQ_DIST_PORT: String(this.distPort),
        RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq.conf'), RABBITMQ_MNESIA_BASE: join(d, 'mnesia'), RABBITMQ_LOG_BASE: join(d, 'log'),
        RABBITMQ_PID_FILE: this.pidFile, RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'plugins'), RABBITMQ_FEATURE_FLAGS_FILE: join(d, 'feature_flags'),
        RABBITMQ_PLUGINS_EXPAND_DIR: join(d, 'plugins-expand'),
      },
    });
    child.unref();
    const deadline = Date.now() + timeoutMs;
    while (!(await portOpen(this.port))) {
      if (Date.now() > deadline) throw new Error(`private RabbitMQ on ${this.port} did not start; see ${d}/log`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Stops the node (SIGTERM to the Erlang VM, by its pid file) and waits until it is gone. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!existsSync(this.pidFile)) return;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    if (!pid || !pidAlive(pid)) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (pidAlive(pid) || (await portOpen(this.port))) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
