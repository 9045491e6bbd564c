// The e2e scenario inside code-server (driven by scripts/e2e/run.mjs): a new user opens the DC Lab panel, logs in
// to the embedded sandbox through a PHONE_MIGRATE (input boxes: phone 9996641234, code 44444), sees the redirect
// in the panel's trace and DC4 as home in its topology and in the activity-bar tree, runs a query on another DC
// (a transfer) and downloads a seeded file by dc_id (checked by SHA-256). Then a request file (`.mtproto`):
// its CodeLens "▶ Run" runs request #1 (result document beside: ok, the user, `@me` assigned), then request #2 which
// uses `{{me}}` on DC 2 (a transfer in its trace line); the result's "Show call in DC Lab trace" lens selects the call
// in the panel's trace; "Run on DC…" runs request #1 on DC 3; a typed unknown method gets a squiggle and its Run is
// refused with the diagnostic; Ctrl+Space completes a method name (then removed) and a hover over request #1's method
// shows its TL signature. A `.tl` file with a wrong constructor id gets an error and a hover with the computed
// id. Each step
// is timed; a screenshot after each goes to test-output/e2e/.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** sha256 of the sandbox's seeded `medium-dc3.bin` (docs/contracts.md, sandbox files and the CDN). */
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
      return {
        lines: text
          .split('\n')
          .filter((l) => /PHONE_MIGRATE_4|sendCode/.test(l))
          .slice(0, 6),
      };
    });

    await step('webview-topology', async () => {
      await tab('Topology').click();
      const topo = webview.locator('[data-testid=topology]');
      await topo.waitFor({ state: 'visible', timeout: 15_000 });
      const text = await topo.innerText();
      if (!/Home: DC ?4/.test(text) || !/PHONE_MIGRATE_4/.test(text))
        throw new Error(`the topology does not show DC4 as home with the redirect edge: ${text.slice(0, 1500)}`);
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
      await result
        .getByText(/nearestDc/)
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
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
      await list
        .getByText(/medium-dc3\.bin/)
        .first()
        .waitFor({ state: 'visible', timeout: 15_000 });
      const text = await list.innerText();
      await screenshot('downloads');
      // the download and its transfer to DC3 in the trace (filtered by DC 3)
      await tab('Trace').click();
      await webview.locator('[data-testid=trace-text] input, input[data-testid=trace-text]').first().fill('download');
      const viewport = webview.locator('[data-testid=trace-viewport]');
      await viewport
        .getByText(/download/)
        .first()
        .waitFor({ state: 'visible', timeout: 10_000 });
      const trace = await viewport.innerText();
      await screenshot('trace-download');
      return {
        downloads: text.slice(0, 300),
        trace: trace
          .split('\n')
          .filter((l) => /download/.test(l))
          .slice(0, 4),
      };
    });

    // Request files: a .mtproto file in the workspace, run from its CodeLens with the logged-in client.
    const mtprotoEditor = page.locator('[data-uri$="e2e.mtproto"]').first();
    const resultEditor = page.locator('[data-uri^="dclab-result:"][data-uri$="e2e.mtproto.result.json"]').first();
    /** The visible text of an editor (Monaco renders spaces as U+00A0). */
    const editorText = async (editor) => (await editor.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');
    /** Polls an editor's text until `test` accepts it. */
    const waitForEditorText = async (editor, test, what, timeout = 60_000) => {
      const deadline = Date.now() + timeout;
      for (;;) {
        const text = await editorText(editor).catch(() => '');
        if (test(text)) return text;
        if (Date.now() > deadline) throw new Error(`${what}; the editor shows: ${text.slice(0, 1500)}`);
        await page.waitForTimeout(300);
      }
    };
    /** The `n`-th (0-based, top to bottom) CodeLens of an editor whose text is `title`. */
    const lens = async (editor, title, n) => {
      const links = editor.locator('.codelens-decoration a', { hasText: title });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const boxes = [];
        for (const l of await links.all()) {
          if ((await l.innerText()).trim() !== title) continue;
          const box = await l.boundingBox();
          if (box) boxes.push({ l, y: box.y });
        }
        boxes.sort((a, b) => a.y - b.y);
        if (boxes[n]) return boxes[n].l;
        if (Date.now() > deadline) throw new Error(`CodeLens "${title}" #${n + 1} never appeared (${boxes.length} seen)`);
        await page.waitForTimeout(300);
      }
    };
    /** Ctrl+P, the file name, Enter — retried while the file search has not seen a file the test just wrote. */
    const quickOpen = async (name, tries = 10) => {
      for (let i = 0; i < tries; i++) {
        await page.keyboard.press('Escape');
        await page.keyboard.press('Control+P');
        await quickInputBox.waitFor({ state: 'visible', timeout: 10_000 });
        await quickInputBox.fill(name);
        try {
          await quickInput.locator('.monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 3_000 });
          await page.keyboard.press('Enter');
          return;
        } catch {
          log(`  "${name}" not found by Quick Open yet (try ${i + 1})`);
        }
      }
      throw new Error(`Quick Open never found ${name}`);
    };
    let meId;
    let secondTraceId;

    await step('request-file-open', async () => {
      const dir = join(dirs.workspace, 'requests');
      mkdirSync(dir, { recursive: true });
      // {{self}} comes from the environment file ($shared), {{me}} / {{meHash}} from the first request's result
      writeFileSync(join(dir, 'dclab.env.json'), `${JSON.stringify({ $shared: { self: { _: 'inputUserSelf' } } }, null, 2)}\n`);
      writeFileSync(
        join(dir, 'e2e.mtproto'),
        [
          '# written by test/e2e/extension.e2e.mjs',
          '',
          '### Who am I',
          'users.getUsers',
          '{ "id": [ {{self}} ] }',
          '@me = {{response[0].id}}',
          '@meHash = {{response[0].access_hash}}',
          '',
          '### The same user by id, on DC 2',
          '@dc 2',
          'users.getUsers',
          '{ "id": [{ "_": "inputUser", "user_id": "{{me}}", "access_hash": "{{meHash}}" }] }',
          '',
        ].join('\n'),
      );
      // the .tl file of the last step is written now too: Quick Open's file list is cached after its first use
      mkdirSync(join(dirs.workspace, 'schema'), { recursive: true });
      writeFileSync(
        join(dirs.workspace, 'schema', 'mini.tl'),
        '// written by test/e2e/extension.e2e.mjs\nboolFalse#bc799737 = Bool;\nboolTrue#997275b4 = Bool;\n',
      );
      await quickOpen('e2e.mtproto');
      await mtprotoEditor.waitFor({ state: 'visible', timeout: 30_000 });
      await lens(mtprotoEditor, '▶ Run', 1);
      const lenses = await mtprotoEditor.locator('.codelens-decoration').allInnerTexts();
      return { lenses: lenses.map((t) => t.replace(/\s+/g, ' ').trim()) };
    });

    await step('request-file-run-first', async () => {
      await (await lens(mtprotoEditor, '▶ Run', 0)).click();
      const text = await waitForEditorText(
        resultEditor,
        (t) => /"request": "#1 users\.getUsers"/.test(t) && /"ok": true/.test(t) && /"first_name": "Sandbox User 41234"/.test(t) && /"me": "\d+"/.test(t),
        'the result document of request #1 (ok, the user, @me assigned) did not appear',
      );
      meId = /"me": "(\d+)"/.exec(text)[1];
      await notification(/#1 users\.getUsers → ok on DC4/).waitFor({ state: 'visible', timeout: 15_000 });
      return { me: meId, result: text.split('\n').slice(0, 14) };
    });

    await step('request-file-run-second', async () => {
      // request #2 uses {{me}} / {{meHash}} assigned by request #1 in the earlier run, and @dc 2 (a transfer)
      await (await lens(mtprotoEditor, '▶ Run', 1)).click();
      const text = await waitForEditorText(
        resultEditor,
        (t) => /"request": "#2 users\.getUsers"/.test(t) && /"ok": true/.test(t),
        'the result document of request #2 did not appear',
      );
      if (!/"dc": 2/.test(text)) throw new Error(`request #2 did not run on DC2: ${text.slice(0, 800)}`);
      if (!/transfer DC4 to DC2/.test(text)) throw new Error(`the trace line of request #2 shows no transfer: ${text.slice(0, 800)}`);
      if (!text.includes(`"id": "${meId}"`)) throw new Error(`request #2 did not return user ${meId} (was {{me}} resolved?): ${text.slice(0, 1500)}`);
      secondTraceId = /"traceId": "(\d+)"/.exec(text)?.[1];
      if (!secondTraceId) throw new Error(`no traceId in the result of request #2: ${text.slice(0, 800)}`);
      return { traceId: secondTraceId, result: text.split('\n').slice(0, 14) };
    });

    await step('request-result-trace-link', async () => {
      // the result document's CodeLens opens the panel's trace with that call selected (a filter hiding it is cleared)
      await (await lens(resultEditor, 'Show call in DC Lab trace', 0)).click();
      const selected = webview.locator(`.trace-row.selected[data-id="${secondTraceId}"]`);
      await selected.waitFor({ state: 'visible', timeout: 30_000 });
      const row = await selected.innerText();
      if (!/users\.getUsers/.test(row)) throw new Error(`the selected trace row is not the call: ${row}`);
      const detail = await webview.locator('[data-testid=trace-detail]').innerText();
      if (!/transfer DC4/.test(detail) && !/auth\.exportAuthorization/.test(detail))
        throw new Error(`the detail pane does not show the call's chain: ${detail.slice(0, 1000)}`);
      return { row: row.replace(/\s+/g, ' ').trim(), detail: detail.split('\n').slice(0, 8) };
    });

    await step('request-file-run-on-dc', async () => {
      // "Run on DC…": a quick pick of the profile's DCs (the home DC preselected for a request without @dc)
      await page
        .locator('.tab', { hasText: /e2e\.mtproto(?!\.result)/ })
        .first()
        .click();
      await (await lens(mtprotoEditor, 'Run on DC…', 0)).click();
      await quickInput
        .locator('.quick-input-title', { hasText: /run #1 users\.getUsers on DC/ })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      const preselected = (await quickInput.locator('.monaco-list-row.focused').first().innerText()).replace(/\s+/g, ' ').trim();
      if (!/^DC 4(?!\d)/.test(preselected)) throw new Error(`the home DC is not preselected: ${preselected}`);
      await pick(/run #1 users\.getUsers on DC/, 'DC 3');
      const text = await waitForEditorText(
        resultEditor,
        (t) => /"request": "#1 users\.getUsers"/.test(t) && /"dc": 3/.test(t) && /"ok": true/.test(t),
        'the result of request #1 on DC 3 did not appear',
      );
      return {
        preselected,
        trace: text
          .split('\n')
          .filter((l) => /@DC3/.test(l))
          .map((l) => l.trim()),
      };
    });

    await step('request-file-diagnostics', async () => {
      await mtprotoEditor.waitFor({ state: 'visible', timeout: 15_000 });
      await mtprotoEditor.locator('.view-lines').click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('### Broken');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Enter');
      await page.keyboard.type('users.getUzers', { delay: 20 });
      await page.keyboard.press('Escape'); // the completion list, not a suggestion
      await mtprotoEditor.locator('.squiggly-error').first().waitFor({ state: 'attached', timeout: 15_000 });
      // running it reports the diagnostics instead of sending
      await (await lens(mtprotoEditor, '▶ Run', 2)).click();
      const refused = notification(/#3 users\.getUzers not sent/);
      await refused.waitFor({ state: 'visible', timeout: 15_000 });
      const message = await refused.innerText();
      if (!/unknown method `users\.getUzers`/.test(message)) throw new Error(`unexpected message: ${message}`);
      const problems = page.locator('.statusbar-item[id="status.problems"]').first();
      const problemsLabel = (await problems.getAttribute('aria-label').catch(() => null)) ?? (await problems.innerText().catch(() => ''));
      if (!/Errors: [1-9]/.test(problemsLabel)) throw new Error(`the Problems count shows no error: ${problemsLabel}`);
      await page.keyboard.press('Control+S');
      return { message, problems: problemsLabel };
    });

    await step('request-file-completion-hover', async () => {
      // completion: a method name in a new block, from Ctrl+Space; then the typed lines are removed (the file is left
      // as the diagnostics step saved it); hover: the first request's method name shows its TL signature
      await mtprotoEditor.waitFor({ state: 'visible', timeout: 10_000 });
      const before = await editorText(mtprotoEditor);
      await mtprotoEditor.locator('.view-lines').click();
      await page.keyboard.press('Control+End');
      await page.keyboard.press('Enter');
      await page.keyboard.type('###');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Enter');
      await page.keyboard.type('users.getFu', { delay: 20 });
      const suggestRow = page.locator('.suggest-widget.visible .monaco-list-row', { hasText: 'users.getFullUser' }).first();
      let suggested;
      for (let i = 0; ; i++) {
        await page.keyboard.press('Escape'); // the list opened while typing
        await page.keyboard.press('Control+Space');
        try {
          await suggestRow.waitFor({ state: 'visible', timeout: 5_000 });
          suggested = (await page.locator('.suggest-widget.visible .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
          break;
        } catch (e) {
          if (i >= 2) throw new Error(`Ctrl+Space never showed users.getFullUser: ${String(e?.message ?? e).split('\n')[0]}`);
          log(`  no users.getFullUser suggestion yet (try ${i + 1})`);
        }
      }
      await screenshot('request-file-completion');
      const focused = (await page.locator('.suggest-widget.visible .monaco-list-row.focused').first().innerText({ timeout: 5_000 }))
        .replace(/\s+/g, ' ')
        .trim();
      if (!/^users\.getFullUser\b/.test(focused))
        throw new Error(`the focused suggestion is not users.getFullUser: ${focused} (rows: ${suggested.join(' | ')})`);
      await page.keyboard.press('Enter');
      const completed = await waitForEditorText(
        mtprotoEditor,
        (t) => t.split('\n').some((l) => l.trim() === 'users.getFullUser') && !/users\.getFu(?!llUser)/.test(t),
        'accepting the suggestion did not leave a line `users.getFullUser`',
        10_000,
      );
      // remove the two added lines: select from the end of the file back to the end of `users.getUzers`
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+End');
      await page.keyboard.press('Shift+ArrowUp');
      await page.keyboard.press('Shift+ArrowUp');
      await page.keyboard.press('Shift+End');
      await page.keyboard.press('Backspace');
      await waitForEditorText(mtprotoEditor, (t) => t === before, 'the file did not return to its text before the step', 10_000);
      await page.keyboard.press('Control+S');
      await page
        .locator('.tab.dirty', { hasText: /e2e\.mtproto(?!\.result)/ })
        .first()
        .waitFor({ state: 'detached', timeout: 10_000 });

      // hover: the first `users.getUsers` method line (the topmost view line with that text)
      let target;
      for (const line of await mtprotoEditor.locator('.view-line').all()) {
        if ((await line.innerText()).replace(/\u00a0/g, ' ').trim() !== 'users.getUsers') continue;
        const box = await line.locator(':scope > span').first().boundingBox();
        if (box && (!target || box.y < target.y)) target = box;
      }
      if (!target) throw new Error(`no view line reads users.getUsers: ${before.slice(0, 800)}`);
      const hover = page.locator('.monaco-hover', { hasText: 'users.getUsers#0d91a548' }).first();
      const away = await mtprotoEditor.boundingBox();
      let hoverText;
      for (let i = 0; ; i++) {
        await page.mouse.move(away.x + away.width - 20, away.y + away.height - 20);
        await page.mouse.move(target.x + target.width / 2, target.y + target.height / 2, { steps: 4 });
        try {
          await hover.waitFor({ state: 'visible', timeout: 5_000 });
          hoverText = await hover.innerText();
          break;
        } catch (e) {
          if (i >= 2) throw new Error(`no hover with users.getUsers#0d91a548 over the method name: ${String(e?.message ?? e).split('\n')[0]}`);
          log(`  no method hover yet (try ${i + 1})`);
        }
      }
      if (!hoverText.includes('Vector<User>')) throw new Error(`the hover does not show the result type Vector<User>: ${hoverText.slice(0, 800)}`);
      await screenshot('request-file-hover');
      await page.mouse.move(away.x + away.width - 20, away.y + away.height - 20);
      await page.keyboard.press('Escape');
      return {
        suggestions: suggested.slice(0, 5),
        completedLine: completed.split('\n').find((l) => l.trim() === 'users.getFullUser'),
        hover: hoverText
          .split('\n')
          .filter((l) => l.trim())
          .slice(0, 4),
      };
    });

    await step('tl-file', async () => {
      // a .tl file: the written id of boolTrue is off by one → an id-mismatch error; hover shows the computed id
      await quickOpen('mini.tl');
      const tlEditor = page.locator('[data-uri$="mini.tl"]').first();
      await tlEditor.waitFor({ state: 'visible', timeout: 30_000 });
      await tlEditor.locator('.squiggly-error').first().waitFor({ state: 'attached', timeout: 15_000 });
      await tlEditor
        .locator('.view-lines span', { hasText: /^boolTrue$/ })
        .first()
        .hover();
      const hover = page.locator('.monaco-hover', { hasText: /997275b5/ }).first();
      await hover.waitFor({ state: 'visible', timeout: 15_000 });
      return { hover: (await hover.innerText()).split('\n').slice(0, 6) };
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
