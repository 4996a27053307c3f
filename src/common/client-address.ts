import ipaddr from 'ipaddr.js';

/**
 * The key every per-address limit counts under. An IPv6 customer is usually handed a whole /64
 * (or more), so counting full IPv6 addresses would give one client 2^64 fresh buckets: they
 * are grouped by /64. IPv4-mapped IPv6 (`::ffff:203.0.113.7`) counts as the IPv4 address.
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  let key = recent.get(ip);
  if (key === undefined) {
    // Every request asks (the per-address slots); the addresses of the moment repeat.
    if (recent.size >= RECENT_MAX) recent.clear();
    key = keyOf(ip);
    recent.set(ip, key);
  }
  return key;
}

const RECENT_MAX = 10_000;
const recent = new Map<string, string>();

function keyOf(ip: string): string {
  if (!ipaddr.isValid(ip)) return 'unknown';
  let address = ipaddr.parse(ip);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((part) => part.toString(16)).join(':')}::/64`;
}
