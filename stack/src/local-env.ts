import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Writes `KEY=value` lines that `source`, `process.loadEnvFile` and dotenv tools all read. */
export async function writeLocalEnv(file: string, values: Record<string, string>): Promise<void> {
  const lines = Object.entries(values).map(([key, value]) => {
    if (!/^[\w./:@+-]*$/.test(value)) {
      throw new Error(
        `${key} contains characters that need quoting in ${file}: ${JSON.stringify(value)}`,
      );
    }
    return `${key}=${value}`;
  });
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${lines.join('\n')}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
