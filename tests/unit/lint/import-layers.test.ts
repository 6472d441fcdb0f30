// The import-boundary rule of eslint.config.js, run through ESLint's Node API with the project's real
// config on deliberately wrong imports (and on the right ones, so the rule is not simply "always error").
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

/** Lints `code` as if it were the file at `path` (repo-relative; the file need not exist). */
async function lint(path: string, code: string): Promise<{ ruleId: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).map(({ ruleId, message }) => ({ ruleId, message }));
}

async function layerErrors(path: string, code: string): Promise<string[]> {
  return (await lint(path, code)).filter((m) => m.ruleId === 'parley/import-layers').map((m) => m.message);
}

describe('import layers', () => {
  it('core may not import the CLI, the Node adapters, Electron or Node built-ins', async () => {
    const errors = await layerErrors(
      'core/src/session/x.ts',
      [
        "import { buildProgram } from '../../../cli/src/main.js';",
        "import { nodeWebSocketFactory } from '../../../platform/node/websocket.js';",
        "import { app } from 'electron';",
        "import { readFile } from 'node:fs/promises';",
        "import { join } from 'path';",
        "import WebSocket from 'ws';",
        'export const used = [buildProgram, nodeWebSocketFactory, app, readFile, join, WebSocket];',
      ].join('\n'),
    );
    expect(errors).toHaveLength(6);
    expect(errors[0]).toMatch(/^core may not import '..\/..\/..\/cli\/src\/main.js' \(cli\)/);
    expect(errors[1]).toMatch(/^core may not import '..\/..\/..\/platform\/node\/websocket.js' \(platform\/node\)/);
    expect(errors[2]).toMatch(/^core may not import the package 'electron'/);
    expect(errors[3]).toMatch(/^core may not import the Node built-in 'node:fs\/promises'/);
    expect(errors[4]).toMatch(/Node built-in 'path'/);
    expect(errors[5]).toMatch(/package 'ws'/);
  });

  it('core may import itself, the wire protocol and portable packages', async () => {
    const errors = await layerErrors(
      'core/src/session/x.ts',
      [
        "import { Emitter } from '../util/emitter.js';",
        "import { PROTOCOL_VERSION } from '../../../signaling/protocol/index.js';",
        "import { z } from 'zod';",
        'export const used = [Emitter, PROTOCOL_VERSION, z];',
      ].join('\n'),
    );
    expect(errors).toEqual([]);
  });

  it('a real core module with one wrong import added fails on exactly that import', async () => {
    const real = readFileSync(join(root, 'core/src/messenger.ts'), 'utf8');
    expect(await layerErrors('core/src/messenger.ts', real)).toEqual([]);
    const wrong = `import { homedir } from 'node:os';\nexport const home = homedir;\n${real}`;
    const errors = await layerErrors('core/src/messenger.ts', wrong);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/Node built-in 'node:os'/);
  });

  it('core may not use DOM-only globals', async () => {
    const messages = await lint('core/src/x.ts', 'export const w = window.innerWidth;\n');
    expect(messages.map((m) => m.ruleId)).toContain('no-restricted-globals');
  });

  it('the renderer never imports electron, not even as types; the IPC contract only as types', async () => {
    const errors = await layerErrors(
      'renderer/src/state/x.ts',
      [
        "import { ipcRenderer } from 'electron';",
        "import type { IpcRendererEvent } from 'electron';",
        "import { Channel } from '../../../electron/shared/ipc-contract.js';",
        "import { registerIpc } from '../../../electron/main/ipc.js';",
        "import type { DownloadChannel } from '../../../electron/shared/ipc-contract.js';",
        "import { Messenger } from '../../../core/src/messenger.js';",
        'export const used: unknown[] = [ipcRenderer, Channel, registerIpc, Messenger];',
        'export type T = [IpcRendererEvent, DownloadChannel];',
      ].join('\n'),
    );
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(/^renderer may not import the package 'electron'/);
    expect(errors[1]).toMatch(/^renderer may not import the package 'electron'/);
    expect(errors[2]).toMatch(/only with `import type`/);
    expect(errors[3]).toMatch(/\(electron\/main\)/);
  });

  it('holds in .svelte components too', async () => {
    const errors = await layerErrors(
      'renderer/src/components/X.svelte',
      `<script lang="ts">\n  import { shell } from 'electron';\n  shell.beep();\n</script>\n`,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/package 'electron'/);
  });

  it('electron/main may import the Node adapters but not the CLI', async () => {
    const errors = await layerErrors(
      'electron/main/x.ts',
      [
        "import { nodeWebSocketFactory } from '../../platform/node/websocket.js';",
        "import { buildProgram } from '../../cli/src/main.js';",
        "import { startRelay } from '../../signaling/server/index.js';",
        'export const used = [nodeWebSocketFactory, buildProgram, startRelay];',
      ].join('\n'),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^electron\/main may not import '..\/..\/cli\/src\/main.js' \(cli\)/);
  });

  it('the Node adapters may import core but not the CLI or Electron', async () => {
    const errors = await layerErrors(
      'platform/node/x.ts',
      [
        "import { Messenger } from '../../core/src/messenger.js';",
        "import { readFile } from 'node:fs/promises';",
        "import { EXIT_USAGE } from '../../cli/src/errors.js';",
        "import { app } from 'electron';",
        'export const used = [Messenger, readFile, EXIT_USAGE, app];',
      ].join('\n'),
    );
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/\(cli\)/);
    expect(errors[1]).toMatch(/package 'electron'/);
  });

  it('the wire protocol imports nothing of ours; the relay only the protocol', async () => {
    const protocol = await layerErrors(
      'signaling/protocol/x.ts',
      "import { Emitter } from '../../core/src/util/emitter.js';\nexport const e = Emitter;\n",
    );
    expect(protocol).toHaveLength(1);
    expect(protocol[0]).toMatch(/^signaling\/protocol may not import .* \(core\)/);
    const relay = await layerErrors(
      'signaling/server/x.ts',
      "import { z } from '../protocol/index.js';\nimport { Emitter } from '../../core/src/util/emitter.js';\nexport const e = [z, Emitter];\n",
    );
    expect(relay).toHaveLength(1);
    expect(relay[0]).toMatch(/\(core\)/);
  });

  it('benchmarks share the harness with the tests but import no test tier and not the CLI', async () => {
    const errors = await layerErrors(
      'bench/x.bench.ts',
      [
        "import { createTestbed } from '../tests/testbed/index.js';",
        "import { MessengerPeer } from '../tests/harness/peers/harness.js';",
        "import { helper } from '../tests/integration/session/helper.js';",
        "import { other } from '../tests/e2e/chat.test.js';",
        "import { buildProgram } from '../cli/src/main.js';",
        'export const used = [createTestbed, MessengerPeer, helper, other, buildProgram];',
      ].join('\n'),
    );
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^bench may not import '..\/tests\/integration\/session\/helper.js'/);
    expect(errors[1]).toMatch(/^bench may not import '..\/tests\/e2e\/chat.test.js'/);
    expect(errors[2]).toMatch(/\(cli\)/);
  });

  it('dynamic imports, re-exports and import() types are checked too', async () => {
    const errors = await layerErrors(
      'core/src/x.ts',
      [
        "export { buildProgram } from '../../cli/src/main.js';",
        "export * from '../../electron/main/ipc.js';",
        "export const load = () => import('node:crypto');",
        "export type App = import('electron').App;",
      ].join('\n'),
    );
    expect(errors).toHaveLength(4);
  });
});
