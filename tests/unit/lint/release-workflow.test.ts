// The release workflow cannot run here (no GitHub runners, no Electron download): it is checked against
// GitHub's workflow schema with @action-validator/core, and for the parts that must match the repository.
import { validateWorkflow } from '@action-validator/core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SMOKE_TEST_FLAG } from '../../../electron/main/smoke-test.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
const workflow = readFileSync(join(root, '.github/workflows/release.yml'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('.github/workflows/release.yml', () => {
  it('is a valid GitHub Actions workflow', () => {
    expect(validateWorkflow(workflow).errors).toEqual([]);
  });

  it('the validator does reject a broken workflow (so the check above can fail)', () => {
    const noRunner = workflow.replace(/^ {4}runs-on: ubuntu-24\.04\n/m, '');
    expect(noRunner).not.toBe(workflow);
    expect(validateWorkflow(noRunner).errors.length).toBeGreaterThan(0);
    const badKey = workflow.replace('timeout-minutes: 30', 'timeout-minute: 30');
    expect(validateWorkflow(badKey).errors.length).toBeGreaterThan(0);
  });

  it('builds every installer on its own platform with the repository builder config', () => {
    const config = createRequire(import.meta.url)(join(root, 'build/electron-builder.config.cjs')) as {
      linux: { target: string[] };
      win: { target: { target: string }[] };
      mac: { target: string[] };
    };
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target.map((t) => t.target)).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(workflow).toMatch(/os: ubuntu-[\d.]+\n\s+targets: --linux AppImage deb/);
    expect(workflow).toMatch(/os: windows-[\d]+\n\s+targets: --win nsis/);
    expect(workflow).toMatch(/os: macos-[\d]+\n\s+targets: --mac dmg/);
    expect(workflow).toContain(
      'npx electron-builder --config build/electron-builder.config.cjs ${{ matrix.targets }} --publish never',
    );
    for (const script of ['build', 'typecheck', 'lint', 'test:unit']) {
      if (workflow.includes(`npm run ${script}`)) expect(pkg.scripts[script], script).toBeTruthy();
    }
  });

  it('smoke-tests the packaged Linux app (deb and AppImage) under Xvfb with the flag the app knows', () => {
    const smoke = workflow.slice(workflow.indexOf('  smoke-linux:'), workflow.indexOf('  release:'));
    expect(smoke).toContain('needs: package');
    expect(smoke.match(/xvfb-run -a .*--smoke-test/g)).toHaveLength(2);
    expect(smoke).toContain(`parley ${SMOKE_TEST_FLAG}`);
    expect(smoke).toContain(`--appimage-extract-and-run ${SMOKE_TEST_FLAG}`);
    expect(smoke.match(/grep -q '\^parley smoke test: ok'/g)).toHaveLength(2);
  });

  it('attaches the installers to a release only after the smoke test, with the least permissions', () => {
    expect(workflow).toMatch(/^permissions:\n {2}contents: read$/m);
    const release = workflow.slice(workflow.indexOf('  release:'));
    expect(release).toContain('needs: [package, smoke-linux]');
    expect(release).toMatch(/permissions:\n {6}contents: write/);
    expect(release).toContain('gh release create "$TAG" installers/*');
  });
});
