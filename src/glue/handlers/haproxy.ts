/**
 * HAProxy handler (seed 004's DockerGlue.handlers.lb.HAProxyHandler): every matching
 * event triggers a full re-read → pure model → render → validate → swap → reload.
 * Identical output is skipped, so resyncs and event bursts cost no reload.
 *
 * Params (INI [params], `-` and `_` alike):
 *   template           template file (default: templates/haproxy.cfg.njk); seed's
 *                      template_dir + template_file are accepted too
 *   config_file        live config path (default /etc/haproxy/haproxy.cfg)
 *   pid_file           (default: config_file + ".pid")
 *   http_bind          HTTP frontend bind (default *:80)
 *   tcp_bind_address   address of TCP listeners (default *), port = container port + tcp_port_offset
 *   tcp_port_offset    (default 0)
 *   network            Docker network whose IP backends use (default: first with an address)
 *   reload             master | sf | command | none (default master; command if reload_command set)
 *   reload_command     shell command for reload=command
 *   haproxy_bin        (default haproxy); maxconn (default 4096)
 *   stats_socket       unix socket of the runtime API (default: config_file + ".sock"; rendered
 *                      into the template's `global` section)
 *   runtime_api        1 (default): server-only changes go through the runtime API, no reload;
 *                      0: every change reloads (and no stats socket unless stats_socket is set)
 *   stop_on_exit       1 (default) stops the haproxy master glue started when glue exits;
 *                      a run-once glue (-1) leaves the haproxy it starts running, as a daemon
 */
import { join, resolve, isAbsolute } from 'node:path';
import type { GlueHandler, HandlerConfig, HandlerContext } from '../types.js';
import { buildLbModel } from '../lb-model.js';
import { DEFAULT_TEMPLATE, renderConfigFile, type RenderSettings } from '../render.js';
import { HaproxyProcess, type ReloadMode } from '../haproxy-process.js';
import { RuntimeServers } from '../haproxy-runtime.js';
import { BosunError } from '../../domain/errors.js';
import type { Logger } from '../../util/log.js';

function pathParam(cfg: HandlerConfig, value: string): string {
  return isAbsolute(value) ? value : resolve(cfg.dir, value);
}

export function templatePath(cfg: HandlerConfig): string {
  const p = cfg.params;
  if (p.template) return pathParam(cfg, p.template);
  if (p.template_dir) return join(pathParam(cfg, p.template_dir), p.template_file ?? 'haproxy.cfg.njk');
  return DEFAULT_TEMPLATE;
}

export class HaproxyHandler implements GlueHandler {
  readonly kind = 'state' as const;
  readonly process: HaproxyProcess;
  private readonly template: string;
  private readonly settings: RenderSettings;
  private readonly network: string | undefined;
  private readonly offset: number;
  private lastProblems = '';

  constructor(cfg: HandlerConfig, log: Logger, mode: { once: boolean } = { once: false }) {
    const p = cfg.params;
    const configFile = pathParam(cfg, p.config_file ?? '/etc/haproxy/haproxy.cfg');
    const reload = (p.reload ?? (p.reload_command ? 'command' : 'master')) as ReloadMode;
    if (!['master', 'sf', 'command', 'none'].includes(reload)) {
      throw new BosunError('invalid_message', `${cfg.file}: reload must be master, sf, command or none`, { field: 'reload' });
    }
    this.offset = Number(p.tcp_port_offset ?? '0');
    if (!Number.isInteger(this.offset)) throw new BosunError('invalid_message', `${cfg.file}: tcp_port_offset must be an integer`, { field: 'tcp_port_offset' });
    this.template = templatePath(cfg);
    this.network = p.network || undefined;
    const runtimeApi = (p.runtime_api ?? '1') === '1' && reload !== 'none';
    if (!['0', '1'].includes(p.runtime_api ?? '1')) throw new BosunError('invalid_message', `${cfg.file}: runtime_api must be 0 or 1`, { field: 'runtime_api' });
    const given = p.stats_socket?.replace(/^unix@/, '');
    // `ipv4@…` and other address forms are rendered as given; the runtime client speaks unix sockets only
    const unixPath = given ? (given.includes('@') ? undefined : pathParam(cfg, given)) : runtimeApi ? `${configFile}.sock` : undefined;
    this.settings = {
      http_bind: p.http_bind ?? '*:80',
      tcp_bind_address: p.tcp_bind_address ?? '*',
      stats_socket: unixPath ?? given ?? '',
      maxconn: Number(p.maxconn ?? '4096'),
    };
    const runtime = runtimeApi && unixPath ? new RuntimeServers({ socketPath: unixPath, log }) : undefined;
    if (runtimeApi && !unixPath) log.warn({ stats_socket: given }, 'stats_socket is not a unix socket: every haproxy change reloads');
    this.process = new HaproxyProcess({
      configFile,
      pidFile: p.pid_file ? pathParam(cfg, p.pid_file) : `${configFile}.pid`,
      haproxyBin: p.haproxy_bin ?? 'haproxy',
      reload,
      ...(p.reload_command ? { reloadCommand: p.reload_command } : {}),
      // run once: the haproxy it starts is left serving (as a daemon), whatever stop_on_exit says
      stopOnClose: !mode.once && (p.stop_on_exit ?? '1') === '1',
      daemonize: mode.once,
      ...(runtime ? { runtime } : {}),
      log,
    });
  }

  async handle(ctx: HandlerContext): Promise<void> {
    const containers = await ctx.snapshot();
    const model = buildLbModel(containers, { tcpPortOffset: this.offset, ...(this.network ? { network: this.network } : {}) });
    const problems = model.problems.join('\n');
    if (problems !== this.lastProblems) {
      for (const p of model.problems) ctx.log.warn({ problem: p }, 'container skipped or adjusted');
      this.lastProblems = problems;
    }
    const text = renderConfigFile(this.template, model, this.settings);
    const r = await this.process.apply(text, ctx.signal);
    if (r.changed) {
      const { reloads, runtimeUpdates } = this.process;
      ctx.log.info({ routes: model.routes.length, tcp: model.tcp.length, reloads, runtimeUpdates, via: r.runtime ? 'runtime-api' : 'reload' }, 'haproxy config applied');
    }
  }

  async close(): Promise<void> {
    await this.process.close();
  }
}
