import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SandboxOptions } from '#sandbox/index';
import type { CallCount, HostRequest, HostStarted } from '#bench/sandbox-host';

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The parent's side of `sandbox-host.ts`: the sandbox, running in a child process. */
export class RemoteSandbox {
  private nextId = 1;
  private readonly pending = new Map<number, Waiter>();
  private readonly child: ChildProcess;
  private startedInfo: HostStarted | undefined;

  private constructor() {
    this.child = fork(fileURLToPath(new URL('./sandbox-host.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(`sandbox host: ${message.error}`));
      else waiter.resolve(message.result);
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`sandbox host exited with ${code}`));
      this.pending.clear();
    });
  }

  static async start(options: SandboxOptions): Promise<RemoteSandbox> {
    const remote = new RemoteSandbox();
    remote.startedInfo = await remote.call<HostStarted>({ start: options });
    return remote;
  }

  get started(): HostStarted {
    return this.startedInfo!;
  }

  private call<T>(body: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, ...body });
    });
  }

  request<T = unknown>(request: HostRequest): Promise<T> {
    return this.call<T>({ request });
  }

  callCounts(): Promise<CallCount[]> {
    return this.request<CallCount[]>({ method: 'callCounts' });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call({ close: true }).catch(() => undefined);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (this.child.exitCode === null) this.child.kill();
  }
}
