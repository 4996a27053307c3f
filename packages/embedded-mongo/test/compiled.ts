import fs from 'node:fs';
import path from 'node:path';

import ts from 'typescript';

import type * as Package from '../src';

const src = path.resolve(__dirname, '../src');

function transpileTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) {
      transpileTree(source, path.join(to, entry.name));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
        fileName: source,
      });
      fs.writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), outputText);
    }
  }
}

/**
 * This package's source transpiled to JavaScript (without type checking), for tests that start
 * many server processes: a child on plain JavaScript starts in a fraction of the time one that
 * compiles TypeScript on load takes. Written under node_modules/.cache so that the package's
 * dependencies resolve from there.
 */
export function compiledPackage(): { pkg: typeof Package; dispose(): void } {
  const out = path.resolve(
    __dirname,
    '../node_modules/.cache/embedded-mongo-test',
    String(process.pid),
  );
  fs.rmSync(out, { recursive: true, force: true });
  transpileTree(src, out);
  return {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    pkg: require(path.join(out, 'index.js')) as typeof Package,
    dispose: () => fs.rmSync(out, { recursive: true, force: true }),
  };
}
