// dynalite ships no type declarations; this is the part of its API the sandbox uses.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** Milliseconds a table stays CREATING; 0 makes it ACTIVE at once. */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** A folder to persist to; without it the store is in memory. */
    path?: string;
  }

  export default function dynalite(options?: DynaliteOptions): Server;
}
