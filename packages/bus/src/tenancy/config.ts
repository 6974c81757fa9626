import {
  mergePermissions,
  rolePermissions,
  type SubjectPermissions,
  tenantInboxPrefix,
} from './permissions.js';
import { type NatsTenancy, type NatsTenant, type NatsTenantUser, parseNatsTenancy } from './schema.js';

/**
 * The nats-server configuration (text, for `nats-server -c`) that isolates the tenants described by
 * `input` (validated here: CONFIG_INVALID on bad input):
 *
 * - one account per tenant, named after it, with its own JetStream limits — JetStream is per account, so
 *   one tenant's streams and KV buckets do not exist for another, whatever their names;
 * - users that can only authenticate into their tenant's account, each with the least-privilege
 *   permissions of its roles (see `rolePermissions`) on `baton.<tenant>.>`, the inbox prefix
 *   `_INBOX_<tenant>` and the tenant's streams and buckets;
 * - no anonymous access (no `no_auth_user`), and no user in the system account: `$SYS` is nobody's.
 *
 * Clients connect as one of the users, with `inboxPrefix: tenantInboxPrefix(tenant)` and namespace
 * `<tenant>`. The text holds the given passwords (and nothing it was not given).
 */
export function natsServerConfig(input: unknown): string {
  const tenancy = parseNatsTenancy(input);
  const lines: string[] = [
    `# nats-server configuration for the Baton tenants ${tenancy.tenants.map((t) => t.name).join(', ')}.`,
    '# One account per tenant (JetStream is per account); users get least privilege per role.',
    '# Clients connect with their user and password and the inbox prefix _INBOX_<tenant>.',
    '',
  ];
  lines.push(
    ...block('jetstream', tenancy.storeDir === undefined ? [] : [`store_dir: ${str(tenancy.storeDir)}`]),
  );
  lines.push('');
  lines.push('accounts {');
  for (const tenant of tenancy.tenants) lines.push(...indent(account(tenant, tenancy)));
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * How many messages a user may send to the reply subject of one request it received. A status query
 * after a reconnect asks about up to 256 calls (agent/invocation-status.ts, STATUS_MAX_CALLS) and is
 * answered in as many messages as the recorded replies need to fit the payload limit: with nats-server's
 * default of one, every answer after the first would be refused and those calls lost.
 */
export const RESPONSES_PER_REQUEST = 256;

/** The permissions `user` gets in `tenant`: the union of its roles'. */
export function userPermissions(tenant: string, user: Pick<NatsTenantUser, 'roles'>): SubjectPermissions {
  return mergePermissions(user.roles.map((role) => rolePermissions(tenant, role)));
}

function account(tenant: NatsTenant, tenancy: NatsTenancy): string[] {
  const limits = tenant.jetstream;
  const users = tenant.users.flatMap((user, index) => [
    ...(index === 0 ? [] : ['']),
    ...userEntry(tenant.name, user, tenancy.responseWindowSeconds),
  ]);
  return block(quoteKey(tenant.name), [
    `# inbox prefix: ${tenantInboxPrefix(tenant.name)}`,
    ...block('jetstream', [
      `max_memory: ${limits.maxMemory}`,
      `max_file: ${limits.maxFile}`,
      `max_streams: ${limits.maxStreams}`,
      `max_consumers: ${limits.maxConsumers}`,
    ]),
    'users: [',
    ...indent(users),
    ']',
  ]);
}

function userEntry(tenant: string, user: NatsTenantUser, responseWindowSeconds: number): string[] {
  const permissions = userPermissions(tenant, user);
  const body = [
    `# roles: ${user.roles.join(', ')}`,
    `user: ${str(user.user)}`,
    `password: ${str(user.password)}`,
    ...block('permissions', [
      ...block('publish', subjectLists(permissions.publish)),
      ...block('subscribe', subjectLists(permissions.subscribe)),
      // Answers only to requests received, within the window (the server forgets the reply subject then).
      ...(permissions.allowResponses
        ? [`allow_responses: { max: ${RESPONSES_PER_REQUEST}, expires: "${responseWindowSeconds}s" }`]
        : []),
    ]),
  ];
  return ['{', ...indent(body), '}'];
}

function subjectLists(side: { allow: string[]; deny: string[] }): string[] {
  const lists = [...array('allow', side.allow)];
  if (side.deny.length > 0) lists.push(...array('deny', side.deny));
  return lists;
}

function array(key: string, values: readonly string[]): string[] {
  return [`${key}: [`, ...indent(values.map(str)), ']'];
}

function block(key: string, body: readonly string[]): string[] {
  return [`${key} {`, ...indent(body), '}'];
}

function indent(lines: readonly string[]): string[] {
  return lines.map((line) => (line === '' ? '' : `  ${line}`));
}

/**
 * A double-quoted configuration string. Every value written here was validated to hold no quote,
 * backslash or control character, so it needs no escaping; JSON quoting still guards the file.
 */
function str(value: string): string {
  return JSON.stringify(value);
}

/** Account names are tenant names (subject tokens); quoted so a name like `123` stays a name. */
function quoteKey(name: string): string {
  return str(name);
}
