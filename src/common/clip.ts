/** Longest header-derived values stored with sessions and audit events. */
export const USER_AGENT_MAX = 512;
export const IP_MAX = 64;
export const CLIENT_REQUEST_ID_MAX = 128;

/** Keeps stored strings bounded whatever a client sends in its headers. */
export const clip = (value: string | undefined, max: number): string | null =>
  value ? value.slice(0, max) : null;
