/** `orderflow codec-server`: Temporal's remote codec protocol with the payload keys; its settings are read here (only it uses them). */
import { codecServerVariables } from './environment.ts';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.ts';
import { errorCode } from '../config-reader.ts';
import { readEncryptionKeys } from '../temporal/encryption.ts';
import { isLoopbackHost, startCodecServer } from '../temporal/codec-server.ts';
import type { CodecServerAccess, CodecServerOptions } from '../temporal/codec-server.ts';
import { CommandFailure, exitCodes } from './framework.ts';
import type { CliContext, LeafCommand } from './framework.ts';

type Environment = CliContext['env'];

const defaultCodecServerListen = '127.0.0.1:8234';
/** A shared token shorter than this is refused: it must not be guessable. */
const minTokenLength = 24;

type CodecServerSettings = Pick<CodecServerOptions, 'host' | 'port' | 'access' | 'corsOrigins'>;

function set(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Reads the codec server's variables; every problem at once, naming variables, never a token. */
export function readCodecServerSettings(env: Environment): { settings: CodecServerSettings | undefined; problems: string[] } {
  const problems: string[] = [];
  const listen = set(env, 'ORDERFLOW_CODEC_SERVER_LISTEN') ?? defaultCodecServerListen;
  const listenMatch = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
  const port = listenMatch === null ? NaN : Number(listenMatch[2]);
  const host = listenMatch === null ? '' : (listenMatch[1] as string).replace(/^\[|\]$/g, '');
  if (listenMatch === null || !(port >= 0 && port <= 65535)) {
    problems.push(`ORDERFLOW_CODEC_SERVER_LISTEN (${JSON.stringify(listen)}) must be host:port, e.g. ${defaultCodecServerListen} (port 0: any free port).`);
  }

  let token = set(env, 'ORDERFLOW_CODEC_SERVER_TOKEN');
  const tokenFile = set(env, 'ORDERFLOW_CODEC_SERVER_TOKEN_FILE');
  if (tokenFile !== undefined && token !== undefined) {
    problems.push('ORDERFLOW_CODEC_SERVER_TOKEN and ORDERFLOW_CODEC_SERVER_TOKEN_FILE are both set; set only one of them.');
    token = undefined;
  } else if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (error) {
      problems.push(`ORDERFLOW_CODEC_SERVER_TOKEN_FILE names the file ${tokenFile}, which cannot be read (${errorCode(error)}); fix the path or the file's permissions.`);
    }
  }
  if (token !== undefined && (token.length < minTokenLength || /\s/.test(token))) {
    problems.push(`the codec server token (ORDERFLOW_CODEC_SERVER_TOKEN${tokenFile === undefined ? '' : '_FILE'}) must be at least ${minTokenLength} characters without spaces, e.g. made with: openssl rand -hex 32.`);
    token = undefined;
  }

  const jwtVariables = ['ORDERFLOW_CODEC_SERVER_JWKS_URL', 'ORDERFLOW_CODEC_SERVER_ISSUER', 'ORDERFLOW_CODEC_SERVER_AUDIENCE'];
  const [jwksUrl, issuer, audience] = jwtVariables.map((name) => set(env, name));
  const missing = jwtVariables.filter((name) => set(env, name) === undefined);
  let jwt: CodecServerAccess['jwt'];
  if (missing.length < jwtVariables.length) {
    const url = jwksUrl === undefined ? null : URL.parse(jwksUrl);
    const urlAllowed = url !== null && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)));
    if (jwksUrl !== undefined && !urlAllowed) {
      problems.push(`ORDERFLOW_CODEC_SERVER_JWKS_URL (${JSON.stringify(jwksUrl)}) must be the https URL of the identity provider's JWKS (http only on loopback), e.g. https://login.example.com/.well-known/jwks.json.`);
    }
    if (missing.length > 0) {
      problems.push(`OIDC access tokens are checked against a JWKS, an issuer and an audience together: set ${missing.join(' and ')} too (or none of the three).`);
    } else if (urlAllowed && issuer !== undefined && audience !== undefined) {
      jwt = { jwksUrl: url, issuer, audience };
    }
  }

  const corsOrigins = new Set<string>();
  for (const origin of (set(env, 'ORDERFLOW_CODEC_SERVER_CORS_ORIGINS') ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')) {
    if (URL.parse(origin)?.origin !== origin) {
      problems.push(`ORDERFLOW_CODEC_SERVER_CORS_ORIGINS has ${JSON.stringify(origin)}, which is not an origin; write scheme://host[:port] without a path, e.g. https://temporal-ui.example.com.`);
    } else {
      corsOrigins.add(origin);
    }
  }

  if (problems.length === 0 && token === undefined && jwt === undefined && !isLoopbackHost(host)) {
    problems.push(
      `the codec server would let anyone decode the runs' data on ${listen}: set ORDERFLOW_CODEC_SERVER_TOKEN (or _FILE), ` +
        'or ORDERFLOW_CODEC_SERVER_JWKS_URL, _ISSUER and _AUDIENCE for the UI\'s login tokens; without either it listens only on loopback (127.0.0.1).',
    );
  }
  if (problems.length > 0) return { settings: undefined, problems };
  return { settings: { host, port, access: { token, jwt }, corsOrigins }, problems };
}

export const codecServerCommand: LeafCommand = {
  name: 'codec-server',
  summary: 'Serve /encode and /decode for the Temporal UI, the temporal CLI and backends (payload encryption)',
  usage: 'codec-server',
  environment: { variables: codecServerVariables },
  help: `Serves Temporal's remote codec protocol with the payload keys (ORDERFLOW_ENCRYPTION_KEYS, as
for the worker) for the Temporal UI, the temporal CLI (--codec-endpoint) and backends, until
Ctrl-C. It listens on ORDERFLOW_CODEC_SERVER_LISTEN (default ${defaultCodecServerListen}); beyond
loopback only with a bearer token (ORDERFLOW_CODEC_SERVER_TOKEN) or the UI's OIDC tokens
(_JWKS_URL, _ISSUER, _AUDIENCE). See docs/encryption.md.`,
  notes: 'Exit status: 0 stopped by a signal; 2 bad configuration.',
  async run(_args, context) {
    const { keys, problems: keyProblems } = readEncryptionKeys(context.env);
    const { settings, problems } = readCodecServerSettings(context.env);
    const all = [...keyProblems, ...problems];
    if (keys === undefined && keyProblems.length === 0) {
      all.unshift('ORDERFLOW_ENCRYPTION_KEYS (or ORDERFLOW_ENCRYPTION_KEYS_FILE) is not set: the codec server needs the keys the worker encrypts with.');
    }
    if (keys === undefined || settings === undefined || all.length > 0) throw new ConfigError(all);
    const shutdown = context.waitForShutdown();
    const log = (line: string): void => void context.stderr.write(`${line}\n`);
    const server = await startCodecServer({ keys, ...settings, log }).catch((error: unknown) => {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : error instanceof Error ? error.message : String(error);
      throw new CommandFailure(`The codec server cannot listen on ${settings.host}:${settings.port} (${code}); choose another address with ORDERFLOW_CODEC_SERVER_LISTEN.`);
    });
    const access = [settings.access.token === undefined ? undefined : 'shared token', settings.access.jwt === undefined ? undefined : `OIDC tokens of ${settings.access.jwt.issuer}`]
      .filter((part) => part !== undefined)
      .join(' or ');
    context.stdout.write(
      `orderflow codec server on ${server.url} (keys ${keys.keyIds.join(', ')}; access: ${access === '' ? 'open, loopback only' : access}; ` +
        `browsers from: ${settings.corsOrigins.size === 0 ? 'none' : [...settings.corsOrigins].join(', ')})\n`,
    );
    const signal = await shutdown;
    context.stdout.write(`${signal}: stopping the codec server.\n`);
    await server.close();
    return exitCodes.ok;
  },
};
