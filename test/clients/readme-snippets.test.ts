import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SNIPPETS = join(__dirname, 'snippets');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The code between `// README: <name>` and `// README end` in a snippet file. */
function regionsOf(file: string): Array<[string, string]> {
  const text = readFileSync(join(SNIPPETS, file), 'utf8');
  return [...text.matchAll(/\/\/ README: (\S+)\n([\s\S]*?)\/\/ README end\n/g)].map((m) => [
    m[1]!,
    m[2]!,
  ]);
}

const regions = readdirSync(SNIPPETS).flatMap(regionsOf);

describe('README "Clients" quotes the tested client code', () => {
  it('every snippet file has a region', () => {
    expect(regions.map(([name]) => name).sort()).toEqual(
      ['apollo', 'browser', 'graphql-request', 'urql'].sort(),
    );
  });

  it.each(regions)('the %s snippet appears verbatim in a ts block', (_name, code) => {
    expect(readme).toContain('```ts\n' + code + '```\n');
  });
});
