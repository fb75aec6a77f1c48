import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskQueueState } from '@activity-deploy/deploy-api/client';

/**
 * The last revision this worker applied, kept on local disk so that a restart can
 * serve it again while the deploy API or the registry is down.
 */
export class AppliedStateFile {
  readonly #file: string;

  constructor(workerDir: string, taskQueue: string) {
    this.#file = path.join(workerDir, 'queues', encodeURIComponent(taskQueue), 'applied.json');
  }

  async read(): Promise<TaskQueueState | undefined> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return JSON.parse(text) as TaskQueueState;
  }

  async write(state: TaskQueueState): Promise<void> {
    await mkdir(path.dirname(this.#file), { recursive: true });
    const temporary = `${this.#file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
    await rename(temporary, this.#file);
  }
}
