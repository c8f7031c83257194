/**
 * The store tests' backend: a fresh migrated PostgreSQL database, the PostgREST test server in front
 * of it (what supabase-js talks to) and a direct `pg` client for reading rows back. `start()` in
 * beforeAll, `stop()` in afterAll; stop releases whatever part a failed start did set up.
 */
import { Client } from 'pg';
import { startPostgrest, type PostgrestServer } from '../emulators/postgrest/server';
import { freshDatabase, type TestDatabase } from './pg';
import { migrateDatabase } from './pg-migrate';

export class PostgrestDb {
  private db?: TestDatabase;
  private server?: PostgrestServer;
  private client?: Client;

  constructor(private readonly serviceKey: string) {}

  /** The PostgREST test server (stop/start it for an outage). */
  get rest(): PostgrestServer {
    if (!this.server) throw new Error('PostgrestDb not started');
    return this.server;
  }

  /** A client connected to the database itself. */
  get sql(): Client {
    if (!this.client) throw new Error('PostgrestDb not started');
    return this.client;
  }

  /** Fresh database, migrated by `migrate` (default: migrateDatabase), then PostgREST and the client. */
  async start(migrate: (url: string) => Promise<unknown> = migrateDatabase): Promise<void> {
    this.db = await freshDatabase();
    await migrate(this.db.url);
    this.server = await startPostgrest({ databaseUrl: this.db.url, serviceKey: this.serviceKey });
    this.client = new Client({ connectionString: this.db.url });
    await this.client.connect();
  }

  /** Stop PostgREST, close the client, drop the database. */
  async stop(): Promise<void> {
    await this.server?.close();
    await this.client?.end();
    await this.db?.drop();
  }
}
