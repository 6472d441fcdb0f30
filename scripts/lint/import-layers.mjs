// ESLint rule `parley/import-layers`: which folder may import which. The layer table lives in
// eslint.config.js; this rule resolves every import specifier (relative paths to repo folders, bare
// names to packages) and reports one that the importing file's layer does not allow.
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';

const BUILTINS = new Set(builtinModules);

/** `node:fs`, `fs`, `fs/promises` → true. */
export function isNodeBuiltin(specifier) {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]);
}

/** `@scope/pkg/deep` → `@scope/pkg`; `pkg/deep` → `pkg`. */
export function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const toPosix = (p) => p.split(sep).join('/');
const within = (path, folder) => path === folder || path.startsWith(folder.endsWith('/') ? folder : folder + '/');

/** @type {import('eslint').Rule.RuleModule} */
export const importLayers = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Enforce the import boundaries between the top-level layers (core, platform, shells, relay).',
    },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          layers: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                folders: { type: 'array', items: { type: 'string' } },
                // Our folders this layer may import (its own folders are always allowed).
                mayImport: { type: 'array', items: { type: 'string' } },
                // Our folders this layer may import with `import type` / `export type` only (erased at build).
                mayImportTypes: { type: 'array', items: { type: 'string' } },
                nodeBuiltins: { type: 'boolean' },
                forbiddenPackages: { type: 'array', items: { type: 'string' } },
                why: { type: 'string' },
              },
              required: ['name', 'folders', 'mayImport'],
              additionalProperties: false,
            },
          },
        },
        required: ['root', 'layers'],
        additionalProperties: false,
      },
    ],
    messages: {
      ourFolder: "{{layer}} may not import '{{specifier}}' ({{target}}): {{why}}",
      typeOnly: "{{layer}} may import '{{specifier}}' ({{target}}) only with `import type`: {{why}}",
      builtin: "{{layer}} may not import the Node built-in '{{specifier}}': {{why}}",
      pkg: "{{layer}} may not import the package '{{specifier}}': {{why}}",
    },
  },
  create(context) {
    const { root, layers } = context.options[0];
    const file = toPosix(relative(root, context.filename));
    const layer = layers.find((l) => l.folders.some((f) => within(file, f)));
    if (!layer) return {};
    const why = layer.why ?? 'see the layer table in eslint.config.js';
    const ownFolders = layer.folders;
    const folderOf = (path) =>
      layers
        .flatMap((l) => l.folders)
        .filter((f) => within(path, f))
        .sort((a, b) => b.length - a.length)[0];

    function check(node, specifier, typeOnly) {
      if (typeof specifier !== 'string') return;
      const data = { layer: layer.name, specifier, why };
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        const target = toPosix(relative(root, resolve(dirname(context.filename), specifier)));
        if (target.startsWith('..')) return; // outside the repository
        if (ownFolders.some((f) => within(target, f))) return;
        if (layer.mayImport.some((f) => within(target, f))) return;
        const shown = folderOf(target) ?? target.split('/')[0];
        if ((layer.mayImportTypes ?? []).some((f) => within(target, f))) {
          if (!typeOnly) context.report({ node, messageId: 'typeOnly', data: { ...data, target: shown } });
          return;
        }
        context.report({ node, messageId: 'ourFolder', data: { ...data, target: shown } });
        return;
      }
      if (isNodeBuiltin(specifier)) {
        if (layer.nodeBuiltins === false) context.report({ node, messageId: 'builtin', data });
        return;
      }
      if ((layer.forbiddenPackages ?? []).includes(packageName(specifier))) {
        context.report({ node, messageId: 'pkg', data });
      }
    }

    const literal = (source) => (source && source.type === 'Literal' ? source.value : undefined);
    return {
      ImportDeclaration(node) {
        check(node, literal(node.source), node.importKind === 'type');
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(node, literal(node.source), node.exportKind === 'type');
      },
      ExportAllDeclaration(node) {
        check(node, literal(node.source), node.exportKind === 'type');
      },
      ImportExpression(node) {
        check(node, literal(node.source), false);
      },
      TSImportType(node) {
        // `import('x').T` in a type position: erased, like `import type`.
        const arg = node.source ?? node.argument; // `argument` before typescript-eslint 8.x's `source`
        const value = arg?.type === 'TSLiteralType' ? arg.literal?.value : literal(arg);
        check(node, value, true);
      },
    };
  },
};

export default { meta: { name: 'parley' }, rules: { 'import-layers': importLayers } };
