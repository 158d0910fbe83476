/**
 * Starts a real embedded Zhangban server for the end-to-end suite, exactly as an operator would:
 * a temporary folder, `zhangban migrate`, `zhangban seed`, `zhangban serve` on a free port, then
 * waits for GET /readyz. The server's settings are written to a state file the tests read (to run
 * `zhangban staff create` against the same database) and globalTeardown stops it.
 */
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');
const STATE_FILE = path.join(os.tmpdir(), `zhangban-mp-e2e-${process.pid}.json`);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(baseUrl, child, logPath, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`zhangban serve exited with ${child.exitCode}: ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      if (res.status === 200) return;
    } catch (e) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`zhangban serve was not ready within ${timeoutMs} ms`);
}

module.exports = async function globalSetup() {
  const zhangban = path.join(REPO, '.venv', 'bin', 'zhangban');
  if (!fs.existsSync(zhangban)) throw new Error(`${zhangban} is missing: run make (the venv) first`);
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhangban-mp-e2e-'));
  const port = await freePort();
  const env = {};
  Object.keys(process.env).forEach((k) => {
    if (!k.startsWith('ZB_')) env[k] = process.env[k];
  });
  Object.assign(env, {
    ZB_PROFILE: 'embedded',
    ZB_VAR_DIR: varDir,
    ZB_PORT: String(port),
    ZB_ACCESS_LOG: 'false',
    ZB_LOG_LEVEL: 'WARNING',
    ZB_SANDBOX_CALLBACK_SPEEDUP: '100',
    // short citizen tokens: the flow meets auth.token_expired for real and refreshes
    ZB_ACCESS_TTL_S: '6',
  });
  const opts = { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] };
  try {
    execFileSync(zhangban, ['migrate'], opts);
    execFileSync(zhangban, ['seed'], opts);
  } catch (error) {
    fs.rmSync(varDir, { recursive: true, force: true });
    throw new Error(`zhangban migrate/seed failed: ${String(error.stderr || error.message).slice(-2000)}`);
  }
  const logPath = path.join(varDir, 'server.log');
  const log = fs.openSync(logPath, 'a');
  const child = spawn(zhangban, ['serve'], { cwd: REPO, env, stdio: ['ignore', log, log] });
  const baseUrl = `http://127.0.0.1:${port}`;
  const state = { baseUrl, varDir, pid: child.pid, env, zhangban, repo: REPO };
  fs.writeFileSync(STATE_FILE, JSON.stringify(state));
  process.env.ZB_MP_E2E_STATE = STATE_FILE;
  globalThis.__ZB_SERVER__ = child;
  try {
    await waitReady(baseUrl, child, logPath, 90000);
  } catch (error) {
    child.kill('SIGTERM');
    fs.rmSync(STATE_FILE, { force: true });
    throw error;
  }
};

module.exports.STATE_FILE = STATE_FILE;
