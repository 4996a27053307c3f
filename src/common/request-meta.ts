/** Who sent a request, as far as the network can tell; recorded with sessions and audit events. */
export interface RequestMeta {
  requestId: string;
  ip: string | undefined;
  userAgent: string | undefined;
}
