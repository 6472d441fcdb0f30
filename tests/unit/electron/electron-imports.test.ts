// Only the composition root (electron/main/index.ts) and the preload entry may load 'electron' at run
// time: from Node, the electron package downloads its binary when required, and every other module
// must stay testable in plain Node. Imports are found with the TypeScript parser, not a regex.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const ALLOWED = new Set(['electron/main/index.ts', 'electron/preload/index.ts']);
const SCANNED_DIRS = ['electron', 'core', 'signaling', 'cli', 'renderer', 'build', 'scripts'];
const EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs)$/;

const isElectron = (specifier: string): boolean => specifier === 'electron' || specifier.startsWith('electron/');

/** Runtime references to the electron module in one source text, as "line: what". */
function runtimeElectronImports(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    true,
    fileName.endsWith('js') ? ts.ScriptKind.JS : ts.ScriptKind.TS,
  );
  const found: string[] = [];
  const at = (node: ts.Node, what: string) =>
    found.push(`${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${what}`);
  const visit = (node: ts.Node): void => {
    if (
      ts.isImportDeclaration(node) &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      isElectron(node.moduleSpecifier.text)
    ) {
      // Under verbatimModuleSyntax only `import type {...}` is erased; `import { type X }` stays as a bare import.
      if (!node.importClause?.isTypeOnly) at(node, 'import');
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      isElectron(node.moduleSpecifier.text)
    ) {
      if (!node.isTypeOnly) at(node, 're-export');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e) && isElectron(e.text) && !node.isTypeOnly) at(node, 'import = require');
    } else if (ts.isCallExpression(node)) {
      const arg = node.arguments[0];
      const literal = arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) ? arg.text : null;
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isDynamicImport || isRequire) && literal !== null && isElectron(literal))
        at(node, isDynamicImport ? 'dynamic import' : 'require');
      // A computed specifier could hide 'electron'; refuse it in the scanned code altogether.
      if ((isDynamicImport || isRequire) && arg && literal === null)
        at(node, `${isDynamicImport ? 'import' : 'require'} with a computed specifier`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (EXTENSIONS.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.d.mts')) out.push(p);
  }
  return out;
}

describe("runtime imports of 'electron'", () => {
  const files = SCANNED_DIRS.flatMap((d) => sourceFiles(join(root, d)));

  it('scans the electron folder', () => {
    expect(files.some((f) => f.endsWith(join('electron', 'main', 'ipc.ts')))).toBe(true);
  });

  it('happen only in the composition root and the preload entry', () => {
    const offenders: string[] = [];
    for (const file of files) {
      const rel = relative(root, file).split('\\').join('/');
      if (ALLOWED.has(rel)) continue;
      for (const hit of runtimeElectronImports(file, readFileSync(file, 'utf8'))) {
        // Dynamic imports of computed specifiers are only a problem inside electron/.
        if (hit.includes('computed specifier') && !rel.startsWith('electron/')) continue;
        offenders.push(`${rel}:${hit}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the two allowed files do import it (the scan sees real imports)', () => {
    for (const rel of ALLOWED)
      expect(runtimeElectronImports(rel, readFileSync(join(root, rel), 'utf8')).length, rel).toBeGreaterThan(0);
  });

  it('tells type-only from runtime imports', () => {
    const sample = [
      "import type { App } from 'electron';",
      "import { type BrowserWindow } from 'electron';",
      "import { app } from 'electron';",
      "import * as e from 'electron/main';",
      "import 'electron';",
      "export { shell } from 'electron';",
      "export type { Tray } from 'electron';",
      "import x = require('electron');",
      "type T = typeof import('electron');",
      "const m = await import('electron');",
      "const r = require('electron');",
      "const s = require('electron-store');",
      'const c = await import(name);',
    ].join('\n');
    expect(runtimeElectronImports('sample.ts', sample)).toEqual([
      '2: import',
      '3: import',
      '4: import',
      '5: import',
      '6: re-export',
      '8: import = require',
      '10: dynamic import',
      '11: require',
      '13: import with a computed specifier',
    ]);
  });
});
