import { promises as dns, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Addresses hitl never sends to unless `HITL_ALLOWED_PRIVATE_TARGETS` lists them: this host,
 * private networks, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254), CGNAT,
 * unspecified, multicast and reserved. A v4 range also covers its IPv4-mapped IPv6 form.
 */
const REFUSED = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  REFUSED.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 96], // unspecified, loopback, and the IPv4-compatible form of every v4 address
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  REFUSED.addSubnet(network, prefix, "ipv6");
}

/** `HITL_ALLOWED_PRIVATE_TARGETS`: host names and address ranges that may be private, and take `http`. */
export interface AllowedTargets {
  hosts: ReadonlySet<string>;
  ranges: BlockList;
}

export const NO_ALLOWED_TARGETS: AllowedTargets = { hosts: new Set(), ranges: new BlockList() };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const family = (address: string) => (isIP(address) === 6 ? "ipv6" : "ipv4");

/** Parses `host,10.0.0.0/8,fd12::/16,127.0.0.1`; each bad entry is named with what it should be. */
export function parseAllowedTargets(value: string | undefined): { targets: AllowedTargets; errors: string[] } {
  const hosts = new Set<string>();
  const ranges = new BlockList();
  const errors: string[] = [];
  const entries = (value ?? "").split(",").map((entry) => entry.trim().toLowerCase());
  entries.forEach((entry, index) => {
    if (entry === "") return;
    const [address, prefixText, ...rest] = entry.replace(/^\[(.*)\]$/, "$1").split("/");
    const version = isIP(address ?? "");
    const prefix = prefixText === undefined ? (version === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (version && rest.length === 0 && prefix >= 0 && prefix <= (version === 6 ? 128 : 32)) {
      ranges.addSubnet(address!, prefix, family(address!));
    } else if (!version && prefixText === undefined && HOST_NAME.test(entry)) {
      hosts.add(entry);
    } else {
      errors.push(`HITL_ALLOWED_PRIVATE_TARGETS entry ${index + 1} ("${entry}"): must be a host name, an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8`);
    }
  });
  return { targets: { hosts, ranges }, errors };
}

/** True when `address` (an IP) is one hitl does not send to unless it is allowed. */
export function isPrivateAddress(address: string): boolean {
  return REFUSED.check(address, family(address));
}

const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();

function addressAllowed(allowed: AllowedTargets, address: string): boolean {
  return !isPrivateAddress(address) || allowed.ranges.check(address, family(address));
}

/** Whether the URL's host itself is listed: a listed name, or an address inside a listed range. */
function hostListed(allowed: AllowedTargets, hostname: string): boolean {
  const host = bare(hostname);
  return isIP(host) ? allowed.ranges.check(host, family(host)) : allowed.hosts.has(host);
}

/**
 * Why hitl will not send to `url`, or null. `https` only, unless the host is listed; a literal
 * private address only when listed. Names are checked again on every connection (`guardedLookup`).
 */
export function targetRefusal(url: string, allowed: AllowedTargets): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an https URL";
  }
  const host = bare(parsed.hostname);
  if (parsed.protocol === "http:" && hostListed(allowed, host)) return null;
  if (parsed.protocol !== "https:") return "must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)";
  if (isIP(host) && !addressAllowed(allowed, host)) return "must not be a private, loopback, link-local or metadata address unless HITL_ALLOWED_PRIVATE_TARGETS lists it";
  return null;
}

/** Resolves a host name to all its addresses. */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/**
 * A `lookup` for `http.request`: resolves the name, and refuses the connection when any address it
 * resolves to is private and not allowed. The check is on the very addresses the socket connects
 * to, so a name that answered with a public address before cannot rebind to a private one.
 */
export function guardedLookup(allowed: AllowedTargets, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        const wanted = options.family === 4 || options.family === 6 ? found.filter((entry) => entry.family === options.family) : found;
        const refused = allowed.hosts.has(bare(hostname)) ? undefined : wanted.find((entry) => !addressAllowed(allowed, entry.address));
        const error = refused
          ? Object.assign(new Error(`${hostname} resolves to ${refused.address}, a private address; HITL_ALLOWED_PRIVATE_TARGETS does not list it`), { code: "EHITLPRIVATE" })
          : wanted.length === 0
            ? Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" })
            : null;
        if (error) callback(error, "", 0);
        else if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}
