// The e2e scenario inside code-server (driven by scripts/e2e/run.mjs): a new user opens the DC Lab panel, logs in
// to the embedded sandbox through a PHONE_MIGRATE (input boxes: phone 9996641234, code 44444), sees the redirect
// in the panel's trace and DC4 as home in its topology and in the activity-bar tree, runs a query on another DC
// (a transfer) and downloads a seeded file by dc_id (checked by SHA-256). Each step is timed; a screenshot after
// each goes to test-output/e2e/.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** sha256 of the sandbox's seeded `medium-dc3.bin` (docs/contracts.md, "Issue 4: sandbox files and CDN"). */
const MEDIUM_DC3_SHA256 = '6b4695690347e066e2f164c9ef3550322889107ddf94ba541c20e44ba67ab33f';

export async function runE2e({ context, url, dirs, out, log }) {
  const page = context.pages()[0] ?? (await context.newPage());
  const steps = [];
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/vsda|gallery|404|Failed to load resource/i.test(m.text())) consoleErrors.push(m.text().slice(0, 300));
  });
  let shot = 0;
  const screenshot = async (name) => {
    const file = join(out, `${String(++shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    return file;
  };
  const step = async (name, fn) => {
    const s = Date.now();
    log(`step: ${name}`);
    try {
      const detail = await fn();
      steps.push({ name, ok: true, ms: Date.now() - s, ...(detail ? { detail } : {}) });
      await screenshot(name);
    } catch (e) {
      steps.push({ name, ok: false, ms: Date.now() - s, error: String(e?.message ?? e).slice(0, 2000) });
      await screenshot(`${name}-FAILED`);
      throw e;
    }
  };

  const quickInput = page.locator('.quick-input-widget');
  const quickInputBox = quickInput.locator('input.input');
  /** F1, type the command title, Enter — retried while the extension's commands are not registered yet. */
  const runCommand = async (title, tries = 12) => {
    for (let i = 0; i < tries; i++) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await quickInputBox.waitFor({ state: 'visible', timeout: 10_000 });
      await quickInputBox.fill(`>${title}`);
      const row = quickInput.locator('.monaco-list-row', { hasText: title }).first();
      try {
        await row.waitFor({ state: 'visible', timeout: 5_000 });
        await page.keyboard.press('Enter');
        return;
      } catch {
        log(`  "${title}" not in the palette yet (try ${i + 1})`);
      }
    }
    throw new Error(`command "${title}" never appeared in the palette`);
  };
  /** Waits for an input box whose title/prompt matches, types the value (replacing a prefill) and submits. */
  const answer = async (titleRe, value, timeout = 30_000) => {
    await quickInput.locator('.quick-input-title, .quick-input-message', { hasText: titleRe }).first().waitFor({ state: 'visible', timeout });
    await quickInputBox.fill(value);
    await page.keyboard.press('Enter');
  };
  /** Waits for a quick pick whose title matches, filters it by `text` and accepts the first row. */
  const pick = async (titleRe, text, timeout = 30_000) => {
    await quickInput.locator('.quick-input-title', { hasText: titleRe }).first().waitFor({ state: 'visible', timeout });
    await quickInputBox.fill(text);
    await quickInput.locator('.monaco-list-row', { hasText: text }).first().waitFor({ state: 'visible', timeout });
    await page.keyboard.press('Enter');
  };
  const notification = (re) => page.locator('.notifications-toasts .notification-list-item-message', { hasText: re }).first();
  const statusBar = (re) => page.locator('.statusbar-item', { hasText: re }).first();
  // a webview is two nested iframes (E2E.md)
  const webview = page.frameLocator('iframe.webview.ready').first().frameLocator('iframe#active-frame');
  const tab = (name) => webview.locator('vscode-panel-tab, [role=tab]', { hasText: new RegExp(`^\\s*${name}\\s*$`) }).first();

  let ok = true;
  let error;
  try {
    await step('workbench', async () => {
      await page.goto(url);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await page.locator('.statusbar').waitFor({ state: 'visible', timeout: 30_000 });
    });

    await step('open-panel', async () => {
      await runCommand('DC Lab: Open Panel');
      await page.locator('.tab', { hasText: 'DC Lab' }).first().waitFor({ state: 'visible', timeout: 30_000 });
      // the app answered the host's init: its status line names the profile and the state
      await webview.locator('[data-testid=status]', { hasText: /sandbox/ }).waitFor({ state: 'visible', timeout: 30_000 });
      await webview.locator('[data-testid=topology]').waitFor({ state: 'attached', timeout: 30_000 });
      await statusBar(/DC Lab: sandbox/).waitFor({ state: 'visible', timeout: 30_000 });
      return { status: await webview.locator('[data-testid=status]').innerText() };
    });

    await step('login-phone-migrate', async () => {
      await runCommand('DC Lab: Log In');
      await answer(/Log In|Phone number/, '9996641234');
      await answer(/login code/, '44444', 90_000);
      await notification(/logged in as/).waitFor({ state: 'visible', timeout: 60_000 });
      const text = await notification(/logged in as/).innerText();
      if (!/home DC4/.test(text) || !/PHONE_MIGRATE_4/.test(text)) throw new Error(`unexpected login message: ${text}`);
      await statusBar(/DC4 · authorized/).waitFor({ state: 'visible', timeout: 15_000 });
      return { message: text };
    });

    await step('webview-trace-redirect', async () => {
      await tab('Trace').click();
      const viewport = webview.locator('[data-testid=trace-viewport]');
      await viewport.waitFor({ state: 'visible', timeout: 15_000 });
      const deadline = Date.now() + 30_000;
      let text = '';
      for (;;) {
        text = await viewport.innerText();
        if (/PHONE_MIGRATE_4/.test(text) && /auth\.sendCode/.test(text)) break;
        if (Date.now() > deadline) throw new Error(`the trace shows no auth.sendCode → PHONE_MIGRATE_4: ${text.slice(0, 1500)}`);
        await page.waitForTimeout(500);
      }
      return { lines: text.split('\n').filter((l) => /PHONE_MIGRATE_4|sendCode/.test(l)).slice(0, 6) };
    });

    await step('webview-topology', async () => {
      await tab('Topology').click();
      const topo = webview.locator('[data-testid=topology]');
      await topo.waitFor({ state: 'visible', timeout: 15_000 });
      const text = await topo.innerText();
      if (!/Home: DC ?4/.test(text) || !/PHONE_MIGRATE_4/.test(text)) throw new Error(`the topology does not show DC4 as home with the redirect edge: ${text.slice(0, 1500)}`);
      return { summary: text.split('\n').find((l) => /Home:/.test(l)) };
    });

    await step('activity-bar-tree', async () => {
      await page.locator('.activitybar .action-item a[aria-label^="DC Lab"]').first().click();
      const pane = page.locator('.pane', { hasText: 'Data centers' }).first();
      await pane.waitFor({ state: 'visible', timeout: 15_000 });
      await pane.locator('.monaco-list-row', { hasText: /DC4/ }).first().waitFor({ state: 'visible', timeout: 15_000 });
      const text = await pane.innerText();
      if (!/DC4\s*home/.test(text)) throw new Error(`the tree does not show DC4 as home: ${text.slice(0, 800)}`);
      return { text: text.slice(0, 600) };
    });

    await step('run-query', async () => {
      await runCommand('DC Lab: Run Query');
      await pick(/Run Query/, 'users.getUsers');
      await answer(/users\.getUsers parameters/, '{"id":[{"_":"inputUserSelf"}]}');
      await answer(/run users\.getUsers on DC/, '1');
      // the result opens as a JSON editor beside the panel
      const editor = page.locator('.editor-instance .view-lines', { hasText: '"_": "user"' }).first();
      await editor.waitFor({ state: 'visible', timeout: 60_000 });
      return { result: (await editor.innerText()).slice(0, 300) };
    });

    await step('webview-query', async () => {
      // the panel's query runner: a typed IPC request (query/run) answered by the host
      await runCommand('DC Lab: Open Panel');
      await tab('Query').click();
      const search = webview.locator('[data-testid=method-search] input, input[data-testid=method-search]').first();
      await search.waitFor({ state: 'visible', timeout: 15_000 });
      await search.fill('help.getNearestDc');
      await webview.locator('[data-testid=method-list] li[data-method="help.getNearestDc"]').click({ timeout: 15_000 });
      await webview.locator('[data-testid=query-run]').click();
      const result = webview.locator('[data-testid=query-result]');
      await result.getByText(/nearestDc/).first().waitFor({ state: 'visible', timeout: 30_000 });
      return { result: (await result.innerText()).slice(0, 300) };
    });

    await step('download-by-dc-id', async () => {
      await runCommand('DC Lab: Download File by dc_id');
      await pick(/Download File by dc_id/, 'medium-dc3.bin', 60_000);
      await answer(/dc_id/, '3');
      await notification(/downloaded medium-dc3\.bin/).waitFor({ state: 'visible', timeout: 120_000 });
      const file = join(dirs.workspace, 'dclab-downloads', 'medium-dc3.bin');
      if (!existsSync(file)) throw new Error(`${file} is missing`);
      const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
      if (sha !== MEDIUM_DC3_SHA256) throw new Error(`sha256 ${sha} != ${MEDIUM_DC3_SHA256}`);
      return { file, sha256: sha, message: await notification(/downloaded medium-dc3\.bin/).innerText() };
    });

    await step('panel-downloads', async () => {
      await runCommand('DC Lab: Open Panel');
      await tab('Downloads').click();
      const list = webview.locator('[data-testid=downloads]');
      await list.waitFor({ state: 'visible', timeout: 15_000 });
      await list.getByText(/medium-dc3\.bin/).first().waitFor({ state: 'visible', timeout: 15_000 });
      const text = await list.innerText();
      await screenshot('downloads');
      // the download and its transfer to DC3 in the trace (filtered by DC 3)
      await tab('Trace').click();
      await webview.locator('[data-testid=trace-text] input, input[data-testid=trace-text]').first().fill('download');
      const viewport = webview.locator('[data-testid=trace-viewport]');
      await viewport.getByText(/download/).first().waitFor({ state: 'visible', timeout: 10_000 });
      const trace = await viewport.innerText();
      await screenshot('trace-download');
      return { downloads: text.slice(0, 300), trace: trace.split('\n').filter((l) => /download/.test(l)).slice(0, 4) };
    });

    await step('reload-restores-panel', async () => {
      // the WebviewPanelSerializer brings the panel back after a window reload (with the app's saved state)
      await page.reload();
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await page.locator('.tab', { hasText: 'DC Lab' }).first().waitFor({ state: 'visible', timeout: 60_000 });
      await page.locator('.tab', { hasText: 'DC Lab' }).first().click();
      await webview.locator('[data-testid=status]', { hasText: /sandbox/ }).waitFor({ state: 'visible', timeout: 60_000 });
      return { status: await webview.locator('[data-testid=status]').innerText() };
    });
  } catch (e) {
    ok = false;
    error = String(e?.stack ?? e);
  }
  return { ok, ...(error ? { error } : {}), steps, consoleErrors: consoleErrors.slice(0, 20) };
}
