import type pg from 'pg';
import type { Logger } from '../lib/logger.js';

const RELISTEN_AFTER_MS = 1_000;

/**
 * One LISTEN connection, held from the pool for as long as the process listens, that calls `onWake` with
 * the payload of every notification on `channel` — and without one whenever announcements may have been
 * missed: the connection was lost, or it listens again after a loss. A lost or refused connection is tried
 * again every second; while deaf, the caller relies on its own scheduled work.
 */
export class ChannelListener {
  private stopped = false;
  private listener: pg.PoolClient | null = null;
  private giveBackListener: (() => void) | null = null;
  private relisten: NodeJS.Timeout | null = null;
  private hasListened = false;

  constructor(
    private readonly channel: string,
    private readonly onWake: (payload?: string) => void,
    private readonly env: { pool: pg.Pool; logger: Logger },
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.relisten) clearTimeout(this.relisten);
    const listener = this.listener;
    if (listener) {
      await listener.query(`unlisten ${this.channel}`).catch(() => undefined);
      this.giveBackListener?.();
    }
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const retryLater = () => {
      this.relisten = setTimeout(() => void this.listen(), RELISTEN_AFTER_MS);
      this.relisten.unref();
    };
    let client: pg.PoolClient;
    try {
      client = await this.env.pool.connect();
    } catch (error) {
      this.env.logger.warn('could not listen; relying on scheduled runs', { channel: this.channel, error });
      retryLater();
      return;
    }
    let released = false;
    const giveBack = (error?: Error) => {
      // A dying connection can report more than one error; it goes back to the pool once.
      if (released) return;
      released = true;
      if (this.listener === client) this.listener = null;
      client.release(error);
    };
    client.on('notification', (message) => this.onWake(message.payload));
    client.on('error', (error) => {
      if (released) return;
      this.env.logger.warn('listener lost; reconnecting', { channel: this.channel, error: error.message });
      giveBack(error);
      retryLater();
      // Whatever was announced while we were deaf is found now.
      this.onWake();
    });
    try {
      await client.query(`listen ${this.channel}`);
      this.listener = client;
      this.giveBackListener = () => giveBack();
      // Listening again after a lost connection: whatever was announced while deaf is found now.
      if (this.hasListened) this.onWake();
      this.hasListened = true;
    } catch (error) {
      giveBack(error as Error);
      this.env.logger.warn('could not listen; relying on scheduled runs', { channel: this.channel, error });
      retryLater();
    }
  }
}
