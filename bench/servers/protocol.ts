/** The IPC messages between the bench (parent) and a server under test (child). */

/** What the parent may ask a child; only the product child answers all of them. */
export type ChildOp =
  'heapUsed' | 'resetCommands' | 'commandCount' | 'profileStart' | 'profileStop';

export interface ChildRequest {
  type: 'request';
  id: number;
  op: ChildOp;
}

export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'error'; message: string }
  | { type: 'reply'; id: number; value: number }
  | { type: 'reply'; id: number; error: string };

/** Options a child receives as its one JSON argument (secrets travel in the environment). */
export interface ChildOptions {
  dbName?: string;
  /** Product only: count MongoDB commands (driver `commandStarted` events). */
  monitorCommands?: boolean;
  /** Where `profileStop` writes the V8 CPU profile taken since `profileStart`. */
  profileFile?: string;
  /** NestJS peer only: its compiled entry module. */
  peerEntry?: string;
}
