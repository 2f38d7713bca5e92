/**
 * Is this Temporal ready for orderflow? If not, why (unreachable, TLS, credential, namespace, search attributes), in words
 * a person can act on. `orderflow setup` registers the search attributes ({@link registerSearchAttributes}).
 */
import type { Connection } from '@temporalio/client';
import { searchAttributeRegistrations } from '../search-attributes.ts';
import { connect as tlsConnect } from 'node:tls';
import type { TemporalConnectionSettings, TemporalConnectionSummary } from './connection.ts';

export type TemporalProblem =
  | 'unreachable'
  | 'tls-failed'
  | 'credential-refused'
  | 'namespace-not-found'
  | 'search-attributes-missing';

/** Temporal is not ready for orderflow. `exitCode`: 1 when unreachable, 2 when the fix is configuration or set-up. */
export class TemporalNotReadyError extends Error {
  override readonly name = 'TemporalNotReadyError';
  readonly problem: TemporalProblem;
  readonly exitCode: 1 | 2;
  readonly missingSearchAttributes: readonly string[];

  constructor(problem: TemporalProblem, message: string, missingSearchAttributes: readonly string[] = []) {
    super(message);
    this.problem = problem;
    this.exitCode = problem === 'unreachable' ? 1 : 2;
    this.missingSearchAttributes = Object.freeze([...missingSearchAttributes]);
  }
}

/** The Temporal services we call (both `Connection` and `NativeConnection` have them). */
export type TemporalServices = Pick<Connection, 'workflowService' | 'operatorService'>;

type Target = Pick<TemporalConnectionSummary, 'address' | 'namespace' | 'tls' | 'credential'>;

const grpcStatus = { deadlineExceeded: 4, notFound: 5, permissionDenied: 7, unimplemented: 12, unavailable: 14, unauthenticated: 16 } as const;

function grpcCode(error: unknown): number | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (typeof current === 'object' && 'code' in current && typeof current.code === 'number') return current.code;
    current = typeof current === 'object' && 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

/** The innermost message, without the stack or grpc-js's "for call at" trace. */
function reasonOf(error: unknown): string {
  let current = error;
  let text = String(error);
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) text = ('details' in current && typeof current.details === 'string' && current.details) || current.message;
    current = typeof current === 'object' && 'cause' in current ? current.cause : undefined;
  }
  return text.split('\n')[0]!.trim().replace(/\.+$/, '');
}

const tlsSymptoms = /certificate|handshake|tls|ssl|UnknownIssuer|self[- ]signed|alpn|wrong version number|InvalidCertificate|BadSignature|NotValidForName/i;

const credentialVariables = 'TEMPORAL_API_KEY (or TEMPORAL_API_KEY_FILE), or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH';

/**
 * A failure to connect to, or call, Temporal, explained; else undefined. Unless `connecting`,
 * only gRPC codes count, so a workflow's own failure text is never taken for a connection problem.
 */
export function explainTemporalFailure(error: unknown, target: Target, connecting = true): TemporalNotReadyError | undefined {
  if (error instanceof TemporalNotReadyError) return error;
  if (error instanceof Error && error.name === 'WorkflowNotFoundError') return undefined;
  const code = grpcCode(error);
  if (!connecting && code === undefined && !(error instanceof Error && error.name === 'NamespaceNotFoundError')) return undefined;
  const reason = reasonOf(error);
  const at = `Temporal at ${target.address}`;
  if (code === grpcStatus.unauthenticated || code === grpcStatus.permissionDenied) {
    return new TemporalNotReadyError(
      'credential-refused',
      `${at} refused our credential (${target.credential === 'none' ? 'none was sent' : target.credential}) for namespace ${target.namespace}: ${reason}. ` +
        `Check ${credentialVariables} (or the profile's api_key / client certificate); the credential must be allowed on namespace ${target.namespace}.`,
    );
  }
  if (code === grpcStatus.notFound && /namespace/i.test(reason)) return namespaceNotFound(target);
  if (error instanceof Error && error.name === 'NamespaceNotFoundError') return namespaceNotFound(target);
  if (connecting && tlsSymptoms.test(reason)) {
    return new TemporalNotReadyError(
      'tls-failed',
      `The TLS connection to ${at} failed: ${reason}. TLS is ${target.tls}. If the server's certificate is signed by your own CA, ` +
        "set TEMPORAL_TLS_SERVER_CA_CERT_PATH to that CA's certificate; if the certificate names another host, set TEMPORAL_TLS_SERVER_NAME; " +
        'if the server does not use TLS, unset the TLS settings (or set TEMPORAL_TLS=false).',
    );
  }
  if (
    code === grpcStatus.unavailable ||
    (connecting && code === grpcStatus.deadlineExceeded) ||
    (connecting && code === undefined && /connect|unavailable|refused|timed? ?out|deadline|dns|resolve|ENOTFOUND|EAI_AGAIN|transport/i.test(reason))
  ) {
    return new TemporalNotReadyError(
      'unreachable',
      `Cannot reach ${at} (namespace ${target.namespace}, TLS ${target.tls}): ${reason}. ` +
        "Start it (npm start runs a local one) or set TEMPORAL_ADDRESS (or TEMPORAL_PROFILE) to your cluster's.",
    );
  }
  return undefined;
}

/** For a failed connect, after a TLS handshake of our own: gRPC hides why a certificate was refused, node:tls says. */
export async function explainConnectFailure(error: unknown, settings: TemporalConnectionSettings): Promise<TemporalNotReadyError | undefined> {
  const explained = explainTemporalFailure(error, settings);
  if (explained?.problem !== 'unreachable') return explained;
  const handshakeFailure = await tlsHandshakeFailure(settings);
  return handshakeFailure === undefined ? explained : (explainTemporalFailure(new Error(handshakeFailure), settings) ?? explained);
}

/** Why a TLS handshake with the server fails, in node:tls's words; undefined when TLS is off, it succeeds, or nothing answers. */
async function tlsHandshakeFailure(settings: TemporalConnectionSettings): Promise<string | undefined> {
  const { address, tls } = settings.connectionOptions();
  if (tls === undefined || tls === false) return undefined;
  const options = tls === true ? {} : tls;
  const { hostname, port } = new URL(`tcp://${address}`);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port || 443),
      servername: options.serverNameOverride ?? (/^[\d.]+$|:/.test(hostname) ? undefined : hostname),
      ...(options.serverRootCACertificate ? { ca: Buffer.from(options.serverRootCACertificate) } : {}),
      ...(options.clientCertPair ? { cert: Buffer.from(options.clientCertPair.crt), key: Buffer.from(options.clientCertPair.key) } : {}),
      ALPNProtocols: ['h2'],
      timeout: 3_000,
    });
    const done = (result: string | undefined): void => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => done(undefined));
    socket.once('timeout', () => done(undefined));
    socket.once('error', (failure: NodeJS.ErrnoException) =>
      done(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET'].includes(failure.code ?? '') ? undefined : `TLS handshake failed: ${failure.message}`),
    );
  });
}

function namespaceNotFound(target: Target): TemporalNotReadyError {
  return new TemporalNotReadyError(
    'namespace-not-found',
    `The namespace ${target.namespace} does not exist at Temporal at ${target.address}. ` +
      `Create it (temporal operator namespace create --namespace ${target.namespace}, or in Temporal Cloud's UI), or set TEMPORAL_NAMESPACE to an existing one.`,
  );
}

function missingSearchAttributesError(missing: readonly string[], target: Target): TemporalNotReadyError {
  return new TemporalNotReadyError(
    'search-attributes-missing',
    `The namespace ${target.namespace} at ${target.address} lacks orderflow's search attribute${missing.length === 1 ? '' : 's'} ` +
      `${missing.join(', ')}, so runs cannot start or be found. Register them once with: orderflow setup ` +
      '(same TEMPORAL_* settings; on Temporal Cloud add them in the namespace settings or with tcld).',
    missing,
  );
}

/** `call`'s result; its failure explained when it is a {@link TemporalNotReadyError}. */
async function explained<T>(target: Target, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainTemporalFailure(error, target) ?? error;
  }
}

/** The namespace exists? Throws namespace-not-found (or an explained connection failure). */
async function checkNamespace(services: TemporalServices, target: Target): Promise<void> {
  await explained(target, () => services.workflowService.describeNamespace({ namespace: target.namespace }));
}

/** Our search attributes the namespace lacks, or undefined when the server does not let us list them. */
export async function missingSearchAttributes(services: TemporalServices, target: Target): Promise<string[] | undefined> {
  const listed = await services.operatorService.listSearchAttributes({ namespace: target.namespace }).catch((error: unknown) => {
    if (grpcCode(error) === grpcStatus.unimplemented) return undefined;
    throw explainTemporalFailure(error, target) ?? error;
  });
  return listed && searchAttributeRegistrations.map(({ name }) => name).filter((name) => !(name in listed.customAttributes));
}

/** The namespace exists and has every orderflow search attribute; else a {@link TemporalNotReadyError}. */
export async function checkReadyForOrderflow(services: TemporalServices, target: Target): Promise<void> {
  await checkNamespace(services, target);
  const missing = await missingSearchAttributes(services, target);
  if (missing !== undefined && missing.length > 0) throw missingSearchAttributesError(missing, target);
}

/** For the starters: a start refused for a missing search attribute or namespace, explained; else undefined. */
export async function explainStartRefusal(error: unknown, services: TemporalServices, namespace: string): Promise<TemporalNotReadyError | undefined> {
  const target = { address: 'the Temporal server', namespace, tls: 'as configured', credential: 'as configured' };
  if (error instanceof Error && error.name === 'NamespaceNotFoundError') return namespaceNotFound(target);
  const unregisteredAttribute = /no mapping defined for search attribute|search attribute .* is not defined/i;
  if (grpcCode(error) !== 3 || !unregisteredAttribute.test(reasonOf(error))) return undefined;
  const missing = await missingSearchAttributes(services, target).catch(() => undefined);
  return missingSearchAttributesError(missing === undefined || missing.length === 0 ? [reasonOf(error).replace(/^.* /, '')] : missing, target);
}

/** temporal.api.enums.v1.IndexedValueType, as the operator service reads and writes it. */
const indexedValueType = { Keyword: 2, Int: 3, Double: 4 } as const;

/** Registers the search attributes the namespace lacks (idempotent); one of another type is reported, not changed. */
export async function registerSearchAttributes(services: TemporalServices, target: Target) {
  await checkNamespace(services, target);
  const { customAttributes: registered } = await explained(target, () =>
    services.operatorService.listSearchAttributes({ namespace: target.namespace }),
  );
  const wrongType = searchAttributeRegistrations.filter(({ name, cliType }) => name in registered && registered[name] !== indexedValueType[cliType]);
  if (wrongType.length > 0) {
    throw new TemporalNotReadyError(
      'search-attributes-missing',
      `The namespace ${target.namespace} has ${wrongType.map(({ name, cliType }) => `${name} with another type than ${cliType}`).join(', ')}; ` +
        'orderflow cannot use it. Use another namespace, or remove the attribute (temporal operator search-attribute remove) and run orderflow setup again.',
      wrongType.map(({ name }) => name),
    );
  }
  const missing = searchAttributeRegistrations.filter(({ name }) => !(name in registered));
  if (missing.length > 0) {
    const searchAttributes = Object.fromEntries(missing.map(({ name, cliType }) => [name, indexedValueType[cliType]]));
    await explained(target, () => services.operatorService.addSearchAttributes({ namespace: target.namespace, searchAttributes }));
  }
  const created = missing.map(({ name }) => name);
  return { created, existing: searchAttributeRegistrations.map(({ name }) => name).filter((name) => !created.includes(name)) };
}
