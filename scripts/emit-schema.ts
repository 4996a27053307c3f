import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAppSchema, renderSchema } from '../src/schema';

async function main(): Promise<void> {
  const path = join(__dirname, '..', 'schema.graphql');
  writeFileSync(path, renderSchema(await buildAppSchema()));
  process.stdout.write(`wrote ${path}\n`);
}

void main();
