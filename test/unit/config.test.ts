import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, Secret, configVariables, isSectionSet, loadConfig, loadSimulatorCredentials } from '../../src/config.ts';
import type { Environment } from '../../src/config.ts';

// The vendors' public sample credentials (seeds/), never real ones.
const webTvKeyId = '1b323a1cb879fd4e66530fbad07a32ee';
const webTvSecret = 'MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3';
const justClickSecret = 'X'.repeat(40);

const validEnv: Environment = {
  WEBTV_API_URL: 'https://shop.example.com/api.php',
  WEBTV_KEY_ID: webTvKeyId,
  WEBTV_SHARED_SECRET: webTvSecret,
  JUSTCLICK_LOGIN: 'username',
  JUSTCLICK_SECRET: justClickSecret,
};

const tempDir = mkdtempSync(join(tmpdir(), 'orderflow-config-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

function writeTemp(name: string, content: string): string {
  const path = join(tempDir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** The problems loadConfig reports; [] when it accepts the environment. */
function problemsOf(env: Environment, needs: Parameters<typeof loadConfig>[1]): readonly string[] {
  try {
    loadConfig(env, needs);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(validEnv, ['webtv', 'justclick', 'temporal', 'ledger']);
    expect(config.webtv.apiUrl).toBe('https://shop.example.com/api.php');
    expect(config.webtv.keyId).toBe(webTvKeyId);
    expect(config.webtv.sharedSecret.reveal()).toBe(webTvSecret);
    expect(config.justclick.login).toBe('username');
    expect(config.justclick.secret.reveal()).toBe(justClickSecret);
    expect(config.justclick.apiUrl).toBe('https://username.justclick.ru/api');
    expect(config.temporal).toEqual({
      address: 'localhost:7233',
      namespace: 'default',
      connection: expect.objectContaining({ address: 'localhost:7233', namespace: 'default', tls: 'off', credential: 'none' }),
      taskQueue: 'orderflow',
      uiUrl: 'http://localhost:8233',
      metricsPort: undefined,
      workflowCacheMb: 64,
    });
    expect(config.ledger).toEqual({ kind: 'sqlite', path: './data/ledger.db' });
  });

  it('the table lists every default the loader applies', () => {
    const defaults = Object.fromEntries(configVariables.map((entry) => [entry.name, entry.default]));
    expect(defaults).toMatchObject({
      JUSTCLICK_API_URL: 'https://<login>.justclick.ru/api',
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      ORDERFLOW_TASK_QUEUE: 'orderflow',
      TEMPORAL_UI_URL: 'http://localhost:8233',
      ORDERFLOW_LEDGER: 'sqlite:./data/ledger.db',
      ORDERFLOW_METRICS_PORT: null,
      ORDERFLOW_WORKFLOW_CACHE_MB: '64',
    });
    expect(configVariables.filter((entry) => entry.secret).map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['WEBTV_SHARED_SECRET', 'JUSTCLICK_SECRET']),
    );
    expect(configVariables.filter((entry) => entry.fileVariant).map((entry) => entry.name).sort()).toEqual(
      ['JUSTCLICK_SECRET', 'ORDERFLOW_ENCRYPTION_KEYS', 'ORDERFLOW_LEDGER', 'TEMPORAL_API_KEY', 'WEBTV_KEY_ID', 'WEBTV_SHARED_SECRET'],
    );
  });

  it('reads the values that override the defaults', () => {
    const config = loadConfig(
      {
        TEMPORAL_ADDRESS: 'temporal.internal:7234',
        TEMPORAL_NAMESPACE: 'shop',
        ORDERFLOW_TASK_QUEUE: 'orders',
        TEMPORAL_UI_URL: 'https://temporal.example.com/',
        ORDERFLOW_METRICS_PORT: '9464',
        ORDERFLOW_WORKFLOW_CACHE_MB: '256',
        ORDERFLOW_LEDGER: 'postgresql://orderflow:pw@db.internal:5432/orderflow',
        JUSTCLICK_LOGIN: 'shop-1',
        JUSTCLICK_SECRET: justClickSecret,
        JUSTCLICK_API_URL: 'http://127.0.0.1:8082/api',
      },
      ['temporal', 'ledger', 'justclick'],
    );
    expect(config.temporal).toEqual({
      address: 'temporal.internal:7234',
      namespace: 'shop',
      connection: expect.objectContaining({ address: 'temporal.internal:7234', namespace: 'shop' }),
      taskQueue: 'orders',
      uiUrl: 'https://temporal.example.com',
      metricsPort: 9464,
      workflowCacheMb: 256,
    });
    expect(config.ledger.kind).toBe('postgres');
    if (config.ledger.kind === 'postgres') expect(config.ledger.url.reveal()).toBe('postgresql://orderflow:pw@db.internal:5432/orderflow');
    expect(config.justclick.apiUrl).toBe('http://127.0.0.1:8082/api');
  });

  it('reads ORDERFLOW_APPROVAL_ABOVE as an amount (off when unset), and refuses anything else', () => {
    expect(loadConfig(validEnv, ['temporal']).temporal.approvalAbove).toBeUndefined();
    expect(loadConfig({ ...validEnv, ORDERFLOW_APPROVAL_ABOVE: '100' }, ['temporal']).temporal.approvalAbove).toBe('100.00');
    expect(loadConfig({ ...validEnv, ORDERFLOW_APPROVAL_ABOVE: '99.5' }, ['temporal']).temporal.approvalAbove).toBe('99.50');
    for (const bad of ['-1', '0', '1e3', '100.001', 'lots']) {
      expect(() => loadConfig({ ...validEnv, ORDERFLOW_APPROVAL_ABOVE: bad }, ['temporal'])).toThrow(/ORDERFLOW_APPROVAL_ABOVE .*write an amount like 100\.00, or unset it for no approvals/);
    }
  });

  it('requires only the sections asked for', () => {
    const config = loadConfig(
      { WEBTV_API_URL: validEnv.WEBTV_API_URL, WEBTV_KEY_ID: webTvKeyId, WEBTV_SHARED_SECRET: webTvSecret, TEMPORAL_ADDRESS: 'not an address' },
      ['webtv'],
    );
    expect(Object.keys(config)).toEqual(['webtv']);
    expect(problemsOf({}, ['temporal', 'ledger'])).toEqual([]);
  });

  it('returns a frozen config', () => {
    const config = loadConfig(validEnv, ['webtv', 'temporal']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.webtv)).toBe(true);
    expect(Object.isFrozen(config.temporal)).toBe(true);
    expect(() => {
      (config.webtv as { apiUrl: string }).apiUrl = 'https://evil.example';
    }).toThrow(TypeError);
  });

  it('lists every problem at once, naming each variable', () => {
    const problems = problemsOf(
      {
        WEBTV_API_URL: 'ftp://shop.example.com/api.php',
        WEBTV_KEY_ID: 'has white space',
        JUSTCLICK_LOGIN: 'not_a_subdomain!',
        TEMPORAL_ADDRESS: 'http://localhost:7233',
        TEMPORAL_UI_URL: 'not a url',
        ORDERFLOW_METRICS_PORT: '70000',
        ORDERFLOW_WORKFLOW_CACHE_MB: '8',
        ORDERFLOW_LEDGER: 'mysql://db/orderflow',
      },
      ['webtv', 'justclick', 'temporal', 'ledger'],
    );
    const expected = [
      /WEBTV_API_URL must be an https URL/,
      /WEBTV_KEY_ID contains whitespace/,
      /WEBTV_SHARED_SECRET is not set.*WEBTV_SHARED_SECRET_FILE/,
      /JUSTCLICK_LOGIN .* is not a valid JustClick login/,
      /JUSTCLICK_SECRET is not set/,
      /TEMPORAL_ADDRESS .* must be host:port without a scheme/,
      /TEMPORAL_UI_URL is not a valid URL/,
      /ORDERFLOW_METRICS_PORT .* is not a valid port/,
      /ORDERFLOW_WORKFLOW_CACHE_MB \("8"\) must be a whole number of MB from 16 to 65536/,
      /ORDERFLOW_LEDGER has the unsupported scheme "mysql:"/,
    ];
    expect(problems).toHaveLength(expected.length);
    for (const pattern of expected) expect(problems.some((problem) => pattern.test(problem))).toBe(true);
  });

  it('says in the message how many problems there are and lists them', () => {
    let caught: unknown;
    try {
      loadConfig({}, ['webtv']);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    expect(message).toMatch(/^The configuration is invalid \(3 problems\):/);
    expect(message).toContain('  - WEBTV_API_URL is not set');
    expect(message).toContain('  - WEBTV_KEY_ID is not set');
    expect(message).toContain('  - WEBTV_SHARED_SECRET is not set');
  });

  it('treats an empty variable as unset', () => {
    expect(problemsOf({ ...validEnv, WEBTV_SHARED_SECRET: '' }, ['webtv'])).toEqual([
      expect.stringMatching(/^WEBTV_SHARED_SECRET is not set/),
    ]);
    expect(loadConfig({ TEMPORAL_NAMESPACE: '' }, ['temporal']).temporal.namespace).toBe('default');
  });

  it('rejects values with surrounding whitespace without printing secrets', () => {
    const problems = problemsOf({ ...validEnv, WEBTV_SHARED_SECRET: ` ${webTvSecret}\n` }, ['webtv']);
    expect(problems).toEqual([expect.stringMatching(/WEBTV_SHARED_SECRET .*leading or trailing whitespace/)]);
    expect(problems.join('\n')).not.toContain(webTvSecret);
  });

  describe('_FILE variants', () => {
    it('reads secrets and the key id from files, trimming the trailing newline', () => {
      const env: Environment = {
        WEBTV_API_URL: validEnv.WEBTV_API_URL,
        WEBTV_KEY_ID_FILE: writeTemp('key-id', `${webTvKeyId}\n`),
        WEBTV_SHARED_SECRET_FILE: writeTemp('webtv-secret', `${webTvSecret}\r\n`),
        JUSTCLICK_LOGIN: 'username',
        JUSTCLICK_SECRET_FILE: writeTemp('justclick-secret', justClickSecret),
      };
      const config = loadConfig(env, ['webtv', 'justclick']);
      expect(config.webtv.keyId).toBe(webTvKeyId);
      expect(config.webtv.sharedSecret.reveal()).toBe(webTvSecret);
      expect(config.justclick.secret.reveal()).toBe(justClickSecret);
    });

    it('refuses a variable set both directly and as a file', () => {
      const problems = problemsOf(
        { ...validEnv, WEBTV_SHARED_SECRET_FILE: writeTemp('both', webTvSecret) },
        ['webtv'],
      );
      expect(problems).toEqual(['WEBTV_SHARED_SECRET and WEBTV_SHARED_SECRET_FILE are both set; set only one of them.']);
    });

    it('names an unreadable or empty file, never its content', () => {
      const missing = join(tempDir, 'does-not-exist');
      const empty = writeTemp('empty', '\n');
      const problems = problemsOf(
        {
          WEBTV_API_URL: validEnv.WEBTV_API_URL,
          WEBTV_KEY_ID: webTvKeyId,
          WEBTV_SHARED_SECRET_FILE: missing,
          JUSTCLICK_LOGIN: 'username',
          JUSTCLICK_SECRET_FILE: empty,
        },
        ['webtv', 'justclick'],
      );
      expect(problems).toHaveLength(2);
      expect(problems[0]).toBe(`WEBTV_SHARED_SECRET_FILE names the file ${missing}, which cannot be read (ENOENT); fix the path or the file's permissions.`);
      expect(problems[1]).toContain(empty);
      expect(problems[1]).toMatch(/is empty/);
    });

    it('does not read _FILE for variables that have no file variant', () => {
      const problems = problemsOf(
        { ...validEnv, WEBTV_API_URL: undefined, WEBTV_API_URL_FILE: writeTemp('url', 'https://shop.example.com/api.php') },
        ['webtv'],
      );
      expect(problems).toEqual([expect.stringMatching(/^WEBTV_API_URL is not set/)]);
    });
  });

  describe('https rule', () => {
    const urlProblems = (url: string): readonly string[] => problemsOf({ ...validEnv, WEBTV_API_URL: url }, ['webtv']);

    it.each([
      'https://shop.example.com/api.php',
      'http://localhost:8081/api.php',
      'http://LOCALHOST:8081/api.php',
      'http://127.0.0.1:8081/api.php',
      'http://127.10.20.30/api.php',
      'http://[::1]:8081/api.php',
    ])('accepts %s', (url) => {
      expect(urlProblems(url)).toEqual([]);
    });

    it.each([
      'http://shop.example.com/api.php',
      'http://128.0.0.1/api.php',
      'http://localhost.example.com/api.php',
      'http://[::2]/api.php',
      'http://10.0.0.1/api.php',
    ])('refuses plain http to the non-loopback %s and says why', (url) => {
      expect(urlProblems(url)).toEqual([
        `WEBTV_API_URL uses http (${url}); use https. Plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1), such as the local simulators.`,
      ]);
    });

    it('refuses the site root, a query string and embedded credentials', () => {
      expect(urlProblems('https://shop.example.com/')).toEqual([expect.stringMatching(/names the site, not its API/)]);
      expect(urlProblems('https://shop.example.com/api.php?go=store')).toEqual([expect.stringMatching(/must not contain a query string/)]);
      const withPassword = urlProblems('https://admin:hunter2@shop.example.com/api.php');
      expect(withPassword).toEqual([expect.stringMatching(/contains a user name or password/)]);
      expect(withPassword[0]).not.toContain('hunter2');
    });

    it('applies to JustClick and the Temporal UI too', () => {
      expect(problemsOf({ ...validEnv, JUSTCLICK_API_URL: 'http://username.justclick.ru/api' }, ['justclick'])).toEqual([
        expect.stringMatching(/^JUSTCLICK_API_URL uses http/),
      ]);
      expect(problemsOf({ TEMPORAL_UI_URL: 'http://temporal.example.com' }, ['temporal'])).toEqual([
        expect.stringMatching(/^TEMPORAL_UI_URL uses http/),
      ]);
    });
  });

  describe('secrets never show', () => {
    const postgresUrl = 'postgres://orderflow:s3cr3t-pg-password@db.internal/orderflow';
    const env: Environment = { ...validEnv, ORDERFLOW_LEDGER: postgresUrl };
    const secrets = [webTvSecret, justClickSecret, 's3cr3t-pg-password'];

    it('not in JSON.stringify or util.inspect of the config', () => {
      const config = loadConfig(env, ['webtv', 'justclick', 'temporal', 'ledger']);
      const printed = [JSON.stringify(config), inspect(config, { depth: null, showHidden: true }), String(config.webtv.sharedSecret), `${config.justclick.secret}`];
      for (const text of printed) {
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
      expect(JSON.stringify(config)).toContain('"sharedSecret":"[redacted]"');
      expect(inspect(config.justclick)).toContain('[redacted]');
    });

    it('not in ConfigError messages', () => {
      const badEnv: Environment = {
        ...env,
        WEBTV_API_URL: 'http://shop.example.com/api.php',
        WEBTV_SHARED_SECRET: `${webTvSecret} `,
        WEBTV_SHARED_SECRET_FILE: writeTemp('secret-file', webTvSecret),
        JUSTCLICK_SECRET: `\t${justClickSecret}`,
        ORDERFLOW_LEDGER: 'postgres://orderflow:s3cr3t-pg-password@[bad/orderflow',
      };
      let caught: unknown;
      try {
        loadConfig(badEnv, ['webtv', 'justclick', 'temporal', 'ledger']);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const error = caught as ConfigError;
      expect(error.problems).toHaveLength(4);
      for (const text of [error.message, inspect(error), JSON.stringify(error.problems)]) {
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
    });

    it('Secret redacts itself everywhere but reveal()', () => {
      const secret = new Secret('topsecret');
      expect(String(secret)).toBe('[redacted]');
      expect(`${secret}`).toBe('[redacted]');
      expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
      expect(inspect({ secret })).toBe("{ secret: [redacted] }");
      expect(secret.reveal()).toBe('topsecret');
    });
  });
});

describe('loadSimulatorCredentials', () => {
  it('reads whichever credentials are set, without needing the API URLs', () => {
    const both = loadSimulatorCredentials({ WEBTV_KEY_ID: webTvKeyId, WEBTV_SHARED_SECRET: webTvSecret, JUSTCLICK_LOGIN: 'username', JUSTCLICK_SECRET: justClickSecret });
    expect(both.webtv?.keyId).toBe(webTvKeyId);
    expect(both.justclick?.secret.reveal()).toBe(justClickSecret);
    const webTvOnly = loadSimulatorCredentials({ WEBTV_KEY_ID: webTvKeyId, WEBTV_SHARED_SECRET: webTvSecret });
    expect(webTvOnly.justclick).toBeUndefined();
    const justClickOnly = loadSimulatorCredentials({ JUSTCLICK_LOGIN: 'username', JUSTCLICK_SECRET_FILE: writeTemp('jc', justClickSecret) });
    expect(justClickOnly.webtv).toBeUndefined();
    expect(justClickOnly.justclick?.login).toBe('username');
  });

  it('refuses when neither is set, and when a pair is incomplete', () => {
    expect(() => loadSimulatorCredentials({})).toThrow(/No simulator credentials are set/);
    expect(() => loadSimulatorCredentials({ WEBTV_KEY_ID: webTvKeyId, JUSTCLICK_SECRET: justClickSecret })).toThrow(
      expect.objectContaining({ problems: [expect.stringMatching(/^WEBTV_SHARED_SECRET is not set/), expect.stringMatching(/^JUSTCLICK_LOGIN is not set/)] }),
    );
  });
});

describe('isSectionSet (the worker\'s optional JustClick)', () => {
  it('is true when a required variable of the section, or its _FILE form, is set; the API URL alone does not count', () => {
    expect(isSectionSet({}, 'justclick')).toBe(false);
    expect(isSectionSet({ JUSTCLICK_API_URL: 'https://username.justclick.ru/api', JUSTCLICK_LOGIN: '' }, 'justclick')).toBe(false);
    expect(isSectionSet({ JUSTCLICK_LOGIN: 'username' }, 'justclick')).toBe(true);
    expect(isSectionSet({ JUSTCLICK_SECRET_FILE: '/run/secrets/justclick' }, 'justclick')).toBe(true);
    expect(isSectionSet({ JUSTCLICK_LOGIN: 'username' }, 'webtv')).toBe(false);
  });
});
