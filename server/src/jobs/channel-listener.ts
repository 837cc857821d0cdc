import type pg from 'pg';
import { connectBesidePool } from '../db/client.js';
import type { Logger } from '../lib/logger.js';

const RELISTEN_AFTER_MS = 1_000;

/**
 * One LISTEN connection, opened beside the pool (db/client.ts connectBesidePool: a process that runs jobs has
 * six listeners, which must not take its pool's connections for good), that calls `onWake` with
 * the payload of every notification on `channel` — and without one whenever announcements may have been
 * missed: the connection was lost, or it listens again after a loss. A lost or refused connection is tried
 * again every second; while deaf, the caller relies on its own scheduled work.
 */
export class ChannelListener {
  private stopped = false;
  private closeListener: (() => Promise<void>) | null = null;
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
    await this.closeListener?.();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const retryLater = () => {
      this.relisten = setTimeout(() => void this.listen(), RELISTEN_AFTER_MS);
      this.relisten.unref();
    };
    let client: pg.Client;
    try {
      client = await connectBesidePool(this.env.pool, `campus-card-listen-${this.channel}`);
    } catch (error) {
      this.env.logger.warn('could not listen; relying on scheduled runs', { channel: this.channel, error });
      retryLater();
      return;
    }
    let closed = false;
    const close = async () => {
      // A dying connection can report more than one error; it is closed once.
      if (closed) return;
      closed = true;
      if (this.closeListener === close) this.closeListener = null;
      await client.end().catch(() => undefined);
    };
    client.on('notification', (message) => this.onWake(message.payload));
    client.on('error', (error) => {
      if (closed) return;
      this.env.logger.warn('listener lost; reconnecting', { channel: this.channel, error: error.message });
      void close();
      retryLater();
      // Whatever was announced while we were deaf is found now.
      this.onWake();
    });
    try {
      await client.query(`listen ${this.channel}`);
      // Stopped while connecting: this connection is the one stop() could not close.
      if (this.stopped) return await close();
      this.closeListener = close;
      // Listening again after a lost connection: whatever was announced while deaf is found now.
      if (this.hasListened) this.onWake();
      this.hasListened = true;
    } catch (error) {
      // Lost while asking to listen: the 'error' handler has already closed it and planned the retry.
      if (closed) return;
      void close();
      this.env.logger.warn('could not listen; relying on scheduled runs', { channel: this.channel, error });
      retryLater();
    }
  }
}
