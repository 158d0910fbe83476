/** Stops the server globalSetup started (by its own pid) and removes its temporary folder. */
const fs = require('fs');

module.exports = async function globalTeardown() {
  const stateFile = process.env.ZB_MP_E2E_STATE;
  if (!stateFile || !fs.existsSync(stateFile)) return;
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const child = globalThis.__ZB_SERVER__;
  const alive = () => {
    try {
      process.kill(state.pid, 0);
      return true;
    } catch (e) {
      return false;
    }
  };
  if (alive()) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 15000;
    while (alive() && Date.now() < deadline) {
      if (child && child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (alive()) process.kill(state.pid, 'SIGKILL');
  }
  fs.rmSync(state.varDir, { recursive: true, force: true });
  fs.rmSync(stateFile, { force: true });
};
